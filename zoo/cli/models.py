"""``zoo list``, ``info``, ``plugins`` and ``datasets``: what the registry holds."""

from __future__ import annotations

import argparse
import fnmatch
import json
from typing import Any

from zoo.cli.table import aligned
from zoo.plugins import get_manager
from zoo.registry import PretrainedSpec, VariantSpec


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _list_presets(args: argparse.Namespace) -> int:
    """``zoo list --presets``: the training recipes (``zoo train VARIANT --preset NAME``)."""
    presets = get_manager().registry.presets
    rows = [{"name": n, "variants": list(s.variants), "plugin": s.plugin,
             "description": s.description, "model": dict(s.model), "train": dict(s.train),
             "release": s.release is not None}
            for n, s in sorted(presets.items()) if fnmatch.fnmatchcase(n, args.pattern)]
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no presets match {args.pattern!r}; `zoo plugins` shows what is installed")
        return 0
    print("\n".join(aligned([(r["name"], ", ".join(r["variants"]) or "any", r["plugin"],
                              r["description"]) for r in rows])))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    if getattr(args, "presets", False):
        return _list_presets(args)
    registry = get_manager().registry
    names = registry.list_models(args.pattern)
    rows = []
    for name in names:
        spec = registry.lookup(name)
        kind = "variant" if isinstance(spec, VariantSpec) else "pretrained"
        rows.append({"name": name, "kind": kind, "plugin": spec.plugin,
                     "description": spec.description})
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"no models match {args.pattern!r}; `zoo plugins` shows what is installed")
        return 0
    print("\n".join(aligned([(r["name"], r["kind"], r["plugin"], r["description"])
                             for r in rows])))
    return 0


def _variant_info(spec: VariantSpec) -> dict[str, Any]:
    """What ``zoo info VARIANT`` shows, declared capabilities included."""
    return {
        "name": spec.name,
        "kind": "variant",
        "plugin": spec.plugin,
        "description": spec.description,
        "model_kind": spec.kind,
        "latent": spec.latent,
        "conditional": spec.conditional,
        "can_sample": spec.has_prior,
        "architectures": list(spec.architectures),
        "config_class": f"{spec.config_class.__module__}.{spec.config_class.__qualname__}",
        "default_config": spec.default_config.to_dict(),
    }


def cmd_info(args: argparse.Namespace) -> int:
    spec = get_manager().registry.lookup(args.name)
    if isinstance(spec, PretrainedSpec):
        info: dict[str, Any] = {
            "name": spec.name, "kind": "pretrained", "plugin": spec.plugin,
            "variant": spec.variant, "config": dict(spec.config), "repo_id": spec.repo_id,
            "revision": spec.revision or "(not pinned: not published on the Hub yet)",
            "files": dict(spec.files), "license": spec.license,
            "dataset": spec.dataset, "description": spec.description, "bundled": spec.bundled,
        }
    else:
        info = _variant_info(spec)
    if args.json:
        _print_json(info)
        return 0
    print("\n".join(_info_lines(info)))
    return 0


def _info_lines(info: dict[str, Any]) -> list[str]:
    """``key: value`` rows, the values in one column; a dict's entries follow its key,
    indented, as aligned ``name = json`` rows."""
    width = max(len(key) for key in info) + 1
    lines = []
    for key, value in info.items():
        if isinstance(value, dict):
            lines.append(f"{key}:" if value else f"{key + ':':<{width}}  -")
            lines += aligned([(k, "=", json.dumps(v)) for k, v in value.items()], indent="  ",
                             gap=" ")
        else:
            shown = (", ".join(map(str, value)) or "-") if isinstance(value, list) else value
            lines.append(f"{key + ':':<{width}}  {shown}")
    return lines


def cmd_plugins(args: argparse.Namespace) -> int:
    plugins = [p.to_dict() for p in get_manager().plugins.values()]
    plugins.sort(key=lambda p: p["name"])
    if args.json:
        _print_json(plugins)
        return 0
    if not plugins:
        print("no zoo plugins loaded (check ZOO_PLUGINS / ZOO_DISABLE_PLUGIN_AUTOLOAD)")
    for p in plugins:
        dist = f"{p['distribution']} {p['version']}" if p["distribution"] else "(not installed)"
        print(f"{p['name']}  [{dist}]  module {p['module']}")
        rows = [(f"{key}:", ", ".join(p.get(key, [])) or "-")
                for key in ("hooks", "variants", "pretrained", "datasets", "presets")]
        print("\n".join(aligned(rows + [("ERROR:", err) for err in p["errors"]], indent="  ")))
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    registry = get_manager().registry
    rows = []
    for name in sorted(registry.datasets):
        spec = registry.datasets[name]
        rows.append({"name": name, "plugin": spec.plugin, "image_shape": list(spec.image_shape),
                     "num_classes": spec.num_classes, "factors": list(spec.factor_names),
                     "splits": list(spec.splits), "description": spec.description})
    if args.json:
        _print_json(rows)
        return 0
    print("\n".join(aligned([(r["name"], "x".join(map(str, r["image_shape"])), r["plugin"],
                              r["description"]) for r in rows])))
    return 0


def add_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list variants and pretrained models (or presets)")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch pattern, e.g. 'beta*'")
    p.add_argument("--presets", action="store_true",
                   help="list the training recipes instead (zoo train VARIANT --preset NAME)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)


def add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a variant's default config or a pretrained entry")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)


def add_plugins(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="show loaded plugins, what they registered, their errors")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_plugins)


def add_datasets(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="list registered datasets")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_datasets)
