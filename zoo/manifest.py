"""Pretrained manifests: the JSON file in which a plugin lists the models it ships.

A plugin that bundles weights keeps them under ``<package>/pretrained/<name>/`` (the files
:func:`zoo.save` writes) and lists them in ``<package>/pretrained/manifest.json``::

    {"format": 1, "models": [{"name": "vqvae-mnist", "variant": "vqvae", "config": {...},
      "repo_id": "org/vqvae-mnist", "revision": "", "files": {"model.safetensors": "<sha256>",
      "config.json": "<sha256>"}, "license": "apache-2.0", "dataset": "mnist",
      "description": "...", "bundled": "zoo_vqvae:pretrained/vqvae-mnist"}]}

Each entry has exactly the fields of :class:`~zoo.registry.PretrainedSpec` (less ``plugin``);
an unknown or missing key is an error. ``zoo bundle`` writes the file, and the plugin's hook
registers what it lists::

    @hookimpl
    def zoo_register_pretrained(register):
        for spec in zoo.read_manifest("my_plugin"):
            register(spec)
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from zoo._io import atomic_write_text
from zoo.errors import PluginError
from zoo.registry import PretrainedSpec

__all__ = ["MANIFEST_FORMAT", "MANIFEST_RESOURCE", "manifest_entry", "read_manifest",
           "specs_from_manifest", "write_manifest"]

MANIFEST_FORMAT = 1
MANIFEST_RESOURCE = "pretrained/manifest.json"
_FIELDS = [f.name for f in dataclasses.fields(PretrainedSpec) if f.name != "plugin"]
_REQUIRED = [f.name for f in dataclasses.fields(PretrainedSpec)
             if f.default is dataclasses.MISSING and f.name != "plugin"]


def manifest_entry(spec: PretrainedSpec) -> dict[str, Any]:
    """The JSON object of one entry (every field but ``plugin``)."""
    entry = {name: getattr(spec, name) for name in _FIELDS}
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in entry.items()}


def specs_from_manifest(data: Any, where: str) -> list[PretrainedSpec]:
    """Parse a manifest's JSON value into specs; ``where`` names it in errors."""
    if not isinstance(data, dict) or set(data) != {"format", "models"}:
        raise PluginError(f"{where}: a manifest is an object with exactly 'format' and 'models'")
    if data["format"] != MANIFEST_FORMAT:
        raise PluginError(f"{where}: manifest format {data['format']!r} is not supported (this "
                          f"zoo reads format {MANIFEST_FORMAT}); upgrade zoo")
    if not isinstance(data["models"], list):
        raise PluginError(f"{where}: 'models' must be a list")
    specs: list[PretrainedSpec] = []
    for i, entry in enumerate(data["models"]):
        if not isinstance(entry, dict):
            raise PluginError(f"{where}: models[{i}] must be an object")
        label = f"{where}: models[{i}] ({entry.get('name', '?')!r})"
        unknown = sorted(set(entry) - set(_FIELDS))
        missing = sorted(set(_REQUIRED) - set(entry))
        if unknown or missing:
            parts = ([f"unknown keys {unknown}"] if unknown else []) + (
                [f"missing keys {missing}"] if missing else [])
            raise PluginError(f"{label}: {'; '.join(parts)}; the keys are {_FIELDS}")
        spec = PretrainedSpec(**entry)
        spec.validate()
        specs.append(spec)
    return specs


def read_manifest(package: str, resource: str = MANIFEST_RESOURCE) -> list[PretrainedSpec]:
    """The pretrained entries listed in ``package``'s manifest (a package resource)."""
    item = files(package).joinpath(*resource.split("/"))
    where = f"{package}:{resource}"
    if not item.is_file():
        raise PluginError(f"{where} does not exist; `zoo bundle` writes it (or remove the "
                          "plugin's zoo_register_pretrained hook)")
    try:
        data = json.loads(item.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PluginError(f"{where} is not valid JSON ({exc})") from None
    return specs_from_manifest(data, where)


def write_manifest(path: str | os.PathLike[str], specs: Iterable[PretrainedSpec]) -> Path:
    """Write a manifest listing ``specs`` (sorted by name) atomically; return its path."""
    entries = sorted((manifest_entry(s) for s in specs), key=lambda e: e["name"])
    text = json.dumps({"format": MANIFEST_FORMAT, "models": entries}, indent=2)
    return atomic_write_text(path, text + "\n")
