"""Publishing to the Hugging Face Hub: ``zoo.push`` / ``zoo push``.

The model (or a directory :func:`zoo.save` wrote, or a run directory's ``best/``) is staged as
``model.safetensors``, ``config.json`` and a ``README.md`` card in a temporary directory, then
uploaded in one commit (``HfApi.create_commit``). A model without a card with measured metrics
is refused before anything is sent. If the branch's head already holds the same three files
(sha256 of LFS files, git blob sha1 of the others, as the Hub's tree lists them), no commit is
made and the head's sha is returned.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zoo import building, cards, serialization
from zoo.errors import ZooError
from zoo.hashing import git_blob_sha1, sha256_file
from zoo.hub.client import api as hub_api
from zoo.hub.client import options
from zoo.hub.errors import HubError, hub_errors
from zoo.names import REPO_ID
from zoo.runs import model_directory
from zoo.serialization import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE
from zoo.training.command import train_command_from_identity

__all__ = ["PushResult", "push"]


class PushResult(str):
    """The commit sha (a ``str``), with what else the push did as attributes."""

    repo_id: str
    revision: str
    changed: bool
    pr_revision: str | None
    pr_url: str | None

    def __new__(cls, sha: str, **attrs: Any) -> PushResult:
        obj = super().__new__(cls, sha)
        obj.__dict__.update(attrs)
        return obj


def _stage(model_or_directory: Any, staging: Path, card: Mapping[str, Any] | None,
           repo_id: str) -> None:
    """Fill ``staging`` with model.safetensors, config.json and the README.md card."""
    identity = None
    if isinstance(model_or_directory, str | os.PathLike):
        src, identity = model_directory(model_or_directory)
        for name in (WEIGHTS_FILE, CONFIG_FILE):
            if not (src / name).is_file():
                raise ZooError(f"{str(src)!r} is not a zoo model directory ({name} missing); "
                               "pass a directory written by zoo.save, a run directory, or a model")
            shutil.copyfile(src / name, staging / name)
        if card is None and (src / CARD_FILE).is_file():
            shutil.copyfile(src / CARD_FILE, staging / CARD_FILE)
    else:
        serialization.write_files(model_or_directory, staging,
                                  building.model_meta(model_or_directory))
    if card is not None:
        if identity is not None:
            card = {"train_command": train_command_from_identity(identity),
                    "train_config": identity.get("train_config"),
                    "seed": (identity.get("train_config") or {}).get("seed"), **card}
        cards.write_card(staging, card, repo_id=repo_id)
    elif (staging / CARD_FILE).is_file():
        front, _ = cards.parse_card((staging / CARD_FILE).read_text(encoding="utf-8"))
        metrics = cards.card_metrics(front, finite=False)
        if not cards.card_metrics(front):  # none, or only NaN/inf: say which
            cards.check_card({"metrics": metrics} if metrics else {},
                             where=f"{str(model_or_directory)!r} (its README.md)")
    else:
        cards.check_card(None, where=str(model_or_directory) if isinstance(
            model_or_directory, str | os.PathLike) else "the model")


def _unchanged(api: Any, repo_id: str, head: str, staging: Path) -> bool:
    remote = {f.path: f for f in api.list_repo_tree(repo_id, revision=head)
              if hasattr(f, "blob_id")}
    for path in staging.iterdir():
        entry = remote.get(path.name)
        if entry is None:
            return False
        same = (entry.lfs.sha256 == sha256_file(path) if entry.lfs is not None
                else entry.blob_id == git_blob_sha1(path))
        if not same:
            return False
    return True


def push(model_or_directory: Any, repo_id: str, *, revision: str | None = None,
         create_pr: bool = False, private: bool = False, token: str | None = None,
         endpoint: str | None = None, card: Mapping[str, Any] | None = None,
         commit_message: str | None = None) -> PushResult:
    """Publish a model to the Hub in one commit; return the commit sha to pin.

    See :func:`zoo.push`. An unchanged model (same three files as the branch's head) makes no
    commit and returns the head's sha (``result.changed`` is False).
    """
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import RevisionNotFoundError

    if not REPO_ID.match(repo_id or ""):
        raise HubError(f"repo id {repo_id!r} must look like 'org/name'")
    opts = options(endpoint, token, None, False)
    if opts.offline:
        raise HubError("cannot push while offline (HF_HUB_OFFLINE=1); unset it")
    branch = revision or "main"
    with tempfile.TemporaryDirectory(prefix="zoo-push-") as tmp:
        staging = Path(tmp)
        _stage(model_or_directory, staging, card, repo_id)
        api = hub_api(opts)
        with hub_errors(repo_id, branch, opts.endpoint):
            api.create_repo(repo_id, private=private, exist_ok=True)
            try:
                head = api.model_info(repo_id, revision=branch).sha
            except RevisionNotFoundError:
                api.create_branch(repo_id, branch=branch, exist_ok=True)
                head = api.model_info(repo_id, revision=branch).sha
            common = {"repo_id": repo_id, "revision": branch}
            if _unchanged(api, repo_id, head, staging):
                return PushResult(head, changed=False, pr_revision=None, pr_url=None, **common)
            ops = [CommitOperationAdd(path_in_repo=p.name, path_or_fileobj=str(p))
                   for p in sorted(staging.iterdir())]
            info = api.create_commit(
                repo_id, operations=ops, revision=branch, create_pr=create_pr,
                parent_commit=head, commit_message=commit_message or "Upload model with zoo push")
    return PushResult(info.oid, changed=True, pr_revision=info.pr_revision, pr_url=info.pr_url,
                      **common)
