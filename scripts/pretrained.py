"""Reproduce, measure and bundle the zoo's own pretrained models.

    python scripts/pretrained.py train NAME --runs runs/       # zoo train VARIANT --preset NAME
    python scripts/pretrained.py bundle NAME --runs runs/      # zoo eval + figures + zoo bundle
    python scripts/pretrained.py list

This script keeps no recipe of its own. A recipe is a preset with a ``release``
(:class:`zoo.PresetSpec`), registered through ``zoo_register_presets`` by the plugin that owns
the variant: the training config and seed, the evaluation options its card's numbers come from,
the figures its card shows and the card's text. ``bundle`` writes the weights into the package
of the plugin that registered the preset (the directory of its entry-point module), its manifest
entry and ``model_cards/NAME.md``; ``zoo check-cards`` measures them again. A release with
``card_only`` (weights that already ship, e.g. the core's classifier-mnist) only rewrites the
card from the bundled copy.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

from zoo import PresetSpec

ROOT = Path(__file__).resolve().parents[1]
REPO_ORG = "vae-zoo"


def releases() -> dict[str, PresetSpec]:
    """Every registered preset that makes a publishable model, by name."""
    from zoo.presets import list_presets

    return {p.name: p for p in list_presets() if p.release is not None}


def plugin_package(preset: PresetSpec) -> Path:
    """The package directory of the plugin that registered ``preset``: where its bundled
    weights and manifest go."""
    from zoo.plugins import get_manager

    module = importlib.import_module(get_manager().plugins[preset.plugin].module or "")
    return Path(module.__file__ or "").resolve().parent


def _zoo(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).parent / "zoo"), *args], check=True)


def _train_command(preset: PresetSpec) -> str:
    return (preset.release or {}).get("train_command") or (
        f"zoo train {preset.variants[0]} --preset {preset.name} --out RUN")


def cmd_train(args: argparse.Namespace) -> None:
    preset = releases()[args.name]
    if (preset.release or {}).get("card_only"):
        raise SystemExit(f"{args.name}: its weights ship already; its training command is "
                         f"recorded in its model card ({_train_command(preset)})")
    _zoo("train", preset.variants[0], "--preset", preset.name, "--out", str(args.runs / args.name),
         *(["--resume"] if args.resume else []))


def _shipped_copy(name: str) -> Path:
    """The directory of pretrained ``name``'s bundled files."""
    from zoo.hub.resolve import bundled_files
    from zoo.plugins import get_manager

    files = bundled_files(get_manager().registry.get_pretrained(name))
    if files is None:
        raise SystemExit(f"{name}: release says card_only, but no bundled copy of it is found")
    return files["config.json"].parent


def cmd_bundle(args: argparse.Namespace) -> None:
    from zoo.bundle import bundle
    from zoo.evaluate import evaluate

    preset = releases()[args.name]
    release = dict(preset.release or {})
    card_only = bool(release.get("card_only"))
    run = args.run or args.runs / args.name
    model = _shipped_copy(args.name) if card_only else run / "best"
    run.mkdir(parents=True, exist_ok=True)
    options = dict(release["eval"])
    dataset = options.pop("dataset")
    saved = run / "eval.json"
    result = json.loads(saved.read_text()) if args.reuse_eval and saved.is_file() else None
    if result is None or any(result["options"].get(k) != v for k, v in options.items()):
        result = evaluate(model, dataset, **options)
        saved.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    figures = [{"title": title, "file": str(run / "plots" / fname)}
               for fname, title in release.get("figures", {}).items()]
    card = {"limitations": release["limitations"], "description": release["description"],
            "pipeline_tag": release.get("pipeline_tag"),
            "train_command": _train_command(preset)}
    if args.notes:
        card["notes"] = args.notes.read_text(encoding="utf-8")
    package = None if card_only else plugin_package(preset)
    spec = bundle(model if card_only else run, args.name, package, eval_result=result,
                  repo_id=f"{REPO_ORG}/{args.name}", description=release["summary"],
                  card=card, figures=figures, cards_dir=ROOT / "model_cards")
    print(json.dumps({"bundled": args.name, "files": dict(spec.files) if spec else None}))


def cmd_list(args: argparse.Namespace) -> None:
    for name, preset in sorted(releases().items()):
        print(f"{name:<24} {preset.variants[0]:<18} {preset.plugin}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("train", cmd_train), ("bundle", cmd_bundle)):
        p = sub.add_parser(name)
        p.add_argument("name", help="a preset with a release (see `list`)")
        p.add_argument("--runs", type=Path, default=Path("runs"))
        p.add_argument("--run", type=Path, help="the run directory (default RUNS/NAME)")
        p.add_argument("--resume", action="store_true")
        p.add_argument("--reuse-eval", action="store_true",
                       help="reuse RUN/eval.json if it was measured with the recipe's options")
        p.add_argument("--notes", type=Path, help="Markdown added to the card's Notes")
        p.set_defaults(func=func)
    sub.add_parser("list", help="the publishable recipes: name, variant, plugin").set_defaults(
        func=cmd_list)
    args = parser.parse_args()
    if getattr(args, "name", None) is not None and args.name not in releases():
        known = ", ".join(sorted(releases())) or "none"
        parser.error(f"no preset with a release is named {args.name!r}; known: {known}")
    args.func(args)


if __name__ == "__main__":
    main()
