"""Where a model's files come from: the one function that decides (:func:`resolve`).

Resolution order of a name (a path always wins over a name):

1. an existing directory: a model directory :func:`zoo.save` wrote, or a run directory (its
   ``best/``); ``resolve_pretrained(spec, local_dir=PATH)`` takes an entry's files from ``PATH``;
2. ``"hf-hub:org/repo[@revision]"``: the HF cache or the Hub (:mod:`zoo.hub.download`);
3. a pretrained name, looked up once in the registry, then:
   a. the copy bundled inside the plugin's distribution (``PretrainedSpec.bundled``, a package
      resource ``"package:dir"``) - the offline default, which imports no huggingface_hub;
   b. the Hugging Face cache, at the entry's pinned revision (no network);
   c. the Hub, unless offline (``HF_HUB_OFFLINE=1`` or ``local_files_only=True``).

An entry not yet published on the Hub has ``revision=""``: steps 3b and 3c then read the
repository's default branch, and the recorded sha256 still decide whether its files are used.
Every file of a pretrained entry is checked against its sha256 whichever source gave it; a
mismatch is a :class:`~zoo.hub.HashMismatchError` naming the file and both hashes, and the file
is never used. A source that lacks the files is skipped; one with the wrong content is an error.
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

from zoo._io import recover_dir
from zoo.errors import UnknownNameError, ZooError
from zoo.hub.client import Resolved, options
from zoo.hub.download import HUB_PREFIX, fetch_hub_ref, pinned_files
from zoo.hub.hashing import verify_spec
from zoo.plugins import manager_for
from zoo.runs import model_directory
from zoo.serialization import CONFIG_FILE, WEIGHTS_FILE
from zoo.specs import PretrainedSpec, VariantSpec

__all__ = ["bundled_files", "resolve", "resolve_pretrained"]


def bundled_files(spec: PretrainedSpec) -> dict[str, Path] | None:
    """The entry's files inside the plugin's distribution, or None when they are not there."""
    if not spec.bundled:
        return None
    package, _, subdir = spec.bundled.partition(":")
    try:
        root = files(package).joinpath(*subdir.split("/"))
    except (ModuleNotFoundError, TypeError):
        return None
    out: dict[str, Path] = {}
    tmp: Path | None = None
    for name in spec.files:
        item = root.joinpath(name)
        if not item.is_file():
            return None
        if isinstance(item, Path):
            out[name] = item
        else:  # inside a zip: copy out
            tmp = tmp or Path(tempfile.mkdtemp(prefix=f"zoo-{spec.name}-"))
            (tmp / name).write_bytes(item.read_bytes())
            out[name] = tmp / name
    return out


def resolve_pretrained(spec: PretrainedSpec, *, revision: str | None = None,
                       local_files_only: bool = False, cache_dir: Any = None,
                       endpoint: str | None = None, token: str | None = None,
                       local_dir: str | os.PathLike[str] | None = None) -> Resolved:
    """The files of a pretrained entry, from the first source that has them (module docstring).

    ``revision`` other than the pinned one loads that revision of the entry's repository instead:
    the bundled copy and the entry's sha256 (which describe the pinned revision) do not apply,
    and the files are checked against the Hub's own hashes.
    """
    if revision and revision != spec.revision:
        return fetch_hub_ref(f"{HUB_PREFIX}{spec.repo_id}", revision=revision,
                             local_files_only=local_files_only, cache_dir=cache_dir,
                             endpoint=endpoint, token=token)
    fix = (f"Delete it, or fetch it again with `zoo download {spec.name} --force`, and check "
           "where it came from.")
    if local_dir is not None:
        files = {n: Path(local_dir) / n for n in spec.files}
        missing = [n for n, p in files.items() if not p.is_file()]
        if missing:
            raise ZooError(f"{str(local_dir)!r} lacks {', '.join(missing)} of {spec.name!r}")
        verify_spec(files, spec, "local directory", fix)
        return Resolved(files, "local directory", spec.repo_id, spec.revision)
    bundled = bundled_files(spec)
    if bundled is not None:
        verify_spec(bundled, spec, f"copy bundled in {spec.bundled}",
                    f"Reinstall the plugin that provides {spec.name!r} ({spec.plugin}).")
        return Resolved(bundled, "bundled", spec.repo_id, spec.revision)
    opts = options(endpoint, token, cache_dir, local_files_only)
    return pinned_files(spec, opts, fix)


def _local(path: Path) -> Resolved:
    directory, _ = model_directory(path)
    return Resolved({WEIGHTS_FILE: directory / WEIGHTS_FILE, CONFIG_FILE: directory / CONFIG_FILE},
                    "local directory")


def resolve(name: str | os.PathLike[str], *, revision: str | None = None,
            local_files_only: bool = False, cache_dir: Any = None, endpoint: str | None = None,
            token: str | None = None) -> tuple[Resolved, str | None]:
    """The files of a directory, ``hf-hub:`` reference or pretrained name (module docstring),
    with the label errors should give the model (``None`` for a local directory)."""
    text = os.fspath(name)
    hub = {"revision": revision, "local_files_only": local_files_only, "cache_dir": cache_dir,
           "endpoint": endpoint, "token": token}
    if text.startswith(HUB_PREFIX):
        return fetch_hub_ref(text, **hub), f"Hub model {text!r}"
    path = Path(text)
    if path.is_dir() or recover_dir(path):  # recover: a zoo.save killed mid-swap
        return _local(path), None
    if path.exists():
        raise ZooError(f"{text!r} is a file; zoo.load takes the directory zoo.save wrote")
    registry = manager_for(text).registry
    try:
        spec = registry.lookup(text)
    except UnknownNameError:
        if os.sep in text or text.startswith("."):
            raise ZooError(f"no such directory: {text!r}") from None
        raise registry.unknown("pretrained model or directory", text, registry.names()) from None
    if isinstance(spec, VariantSpec):
        raise ZooError(
            f"{text!r} is a variant, not a trained model: use zoo.create({text!r}) for a new "
            "model, or zoo.load(DIRECTORY) for one you saved"
        )
    resolved = resolve_pretrained(spec, **hub)
    return resolved, f"pretrained model {text!r} ({resolved.source})"
