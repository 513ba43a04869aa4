"""Rules for one pretrained entry: hashes, revision, bundled files, config and model card."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

from zoo import api
from zoo.cards import parse_card
from zoo.errors import PluginError
from zoo.hub import bundled_files, sha256_file
from zoo.names import SHA1, SHA256
from zoo.plugins import get_manager
from zoo.registry import PretrainedSpec
from zoo.testing._rules import _about, _fail, _rule, _who

_CARD_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([0-9A-Fa-f]+)`\s*\|", re.MULTILINE)
_BUNDLE_FIX = "run `zoo bundle` again, and ship pretrained/*/* as package data"


def _bundle_dir(spec: PretrainedSpec) -> Path:
    """Check the bundled files exist and match their sha256; the directory holding them."""
    package, _, subdir = spec.bundled.partition(":")
    try:
        root = files(package).joinpath(*subdir.split("/"))
    except (ModuleNotFoundError, TypeError) as exc:
        raise _fail("pretrained-bundle", f"bundled names package {package!r}, which does not "
                    f"import ({exc})", "name the plugin's own package in 'package:dir'") from None
    missing = [name for name in spec.files if not root.joinpath(name).is_file()]
    if missing:
        raise _fail("pretrained-bundle", f"{spec.bundled} lacks {missing}", _BUNDLE_FIX)
    paths = bundled_files(spec)
    if paths is None:  # the files exist, so only a race gets here
        raise _fail("pretrained-bundle", f"{spec.bundled} could not be read", _BUNDLE_FIX)
    for name, expected in spec.files.items():
        actual = sha256_file(paths[name])
        if actual != expected:
            raise _fail("pretrained-bundle", f"bundled {name} has sha256 {actual}, the entry "
                        f"says {expected}", "record the hash of the file you ship: " + _BUNDLE_FIX)
    return paths["config.json"].parent


def _check_card(spec: PretrainedSpec, cards_dir: str | Path) -> None:

    path = Path(cards_dir) / f"{spec.name}.md"
    fix = "render the card with `zoo bundle ... --cards-dir DIR` from the files you ship"
    if not path.is_file():
        raise _fail("pretrained-card", f"no model card at {str(path)!r}", fix)
    text = path.read_text(encoding="utf-8")
    with _rule("pretrained-card", f"huggingface_hub.ModelCard({path.name})", fix):
        from huggingface_hub import ModelCard

        ModelCard(text)
        front, body = parse_card(text)
    named = (front.get("zoo") or {}).get("name") if isinstance(front.get("zoo"), Mapping) else None
    if named not in (None, spec.name):
        raise _fail("pretrained-card", f"{path.name} describes {named!r}", fix)
    listed = {name: digest.lower() for name, digest in _CARD_ROW.findall(body)}
    for name, digest in spec.files.items():
        if listed.get(name) != digest:
            got = f"sha256 {listed[name]}" if name in listed else "no sha256"
            raise _fail("pretrained-card", f"{path.name} lists {got} for {name}, the entry has "
                        f"{digest}", fix)


def check_pretrained(spec: PretrainedSpec, cards_dir: str | Path | None = None) -> None:
    """Check a pretrained entry (see the module docstring); its variant must be registered in
    the active plugin manager. ``cards_dir`` also checks ``cards_dir/NAME.md``."""

    with _about(_who(spec)):
        variant = get_manager().registry.variants.get(spec.variant)
        if variant is None:
            known = ", ".join(sorted(get_manager().registry.variants)) or "none"
            raise _fail("pretrained-variant", f"names variant {spec.variant!r}, which is not "
                        f"registered (registered: {known})", "fix the entry's variant, or "
                        "register that variant's plugin too")
        needed = sorted({"model.safetensors", "config.json"} - set(spec.files))
        bad = {name: d for name, d in spec.files.items() if not SHA256.match(str(d))}
        if needed or bad:
            what = f"files lacks {needed}" if needed else f"malformed sha256 {bad}"
            raise _fail("pretrained-files", what, "list model.safetensors and config.json, each "
                        "with its sha256 as 64 lowercase hex digits (zoo bundle records them)")
        if spec.revision and not SHA1.match(spec.revision):
            raise _fail("pretrained-revision", f"revision {spec.revision!r} is not a commit sha",
                        "pin the 40-hex commit sha `zoo push` printed, or '' until published")
        try:
            spec.validate()
        except PluginError as exc:
            raise _fail("pretrained-spec", str(exc), "fix the entry as the message says") from exc
        with _rule("pretrained-config", f"{variant.config_class.__name__} with the entry's "
                   "config", "make the entry's config name fields of the variant's config"):
            config = variant.default_config.replace(**dict(spec.config))
        if spec.bundled:
            directory = _bundle_dir(spec)
            meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            if meta.get("variant") != spec.variant:
                raise _fail("pretrained-config", f"the bundled config.json names variant "
                            f"{meta.get('variant')!r}, the entry {spec.variant!r}", _BUNDLE_FIX)
            with _rule("pretrained-config", "reading the bundled config.json", _BUNDLE_FIX):
                shipped = variant.config_class.from_dict(meta["config"])
            if shipped != config:
                diff = sorted(k for k in config.to_dict()
                              if getattr(config, k) != getattr(shipped, k))
                raise _fail("pretrained-config", f"the bundled config.json differs from the "
                            f"variant's default config plus the entry's config in {diff}, so "
                            f"zoo.create({spec.name!r}) would build another model",
                            "list every non-default field in the entry's config (zoo bundle does)")
            with _rule("pretrained-weights", "loading the bundled weights strictly",
                       _BUNDLE_FIX):
                api.load(directory)
        if cards_dir is not None:
            _check_card(spec, cards_dir)


