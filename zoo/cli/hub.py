"""``zoo download`` and ``push``: move models to and from the Hugging Face Hub."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from zoo import api, cards
from zoo.errors import ZooError
from zoo.runs import model_directory


def cmd_download(args: argparse.Namespace) -> int:
    path = api.download(args.name, args.revision, cache_dir=args.cache_dir, force=args.force)
    print(path)
    return 0


def _read_mapping(path: str, what: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))  # JSON is YAML too
    except (OSError, yaml.YAMLError) as exc:
        raise ZooError(f"cannot read {what} {path!r}: {exc}") from None
    if not isinstance(data, dict):
        raise ZooError(f"{what} {path!r} must hold a mapping (JSON object or YAML mapping)")
    return data


def cmd_push(args: argparse.Namespace) -> int:
    card: dict[str, Any] | None = None
    if args.eval:
        model = str(model_directory(args.model)[0])  # a run directory's best/
        card = cards.card_from_eval(_read_mapping(args.eval, "eval result"), model=model)
    if args.card_template:
        card = {**(card or {}), **_read_mapping(args.card_template, "card template")}
    result = api.push(args.model, args.repo_id, revision=args.revision, create_pr=args.create_pr,
                      private=args.private, card=card, commit_message=args.message)
    where = f"{args.repo_id}@{args.revision or 'main'}"
    if not result.changed:
        print(f"unchanged: {where} already holds these files; no new commit")
    elif result.pr_revision:
        print(f"opened pull request {result.pr_revision} against {where}: {result.pr_url}")
    else:
        print(f"pushed to {where}")
    print(f'pin it: zoo.load("hf-hub:{args.repo_id}@{result}")')
    print(result)
    return 0


def add_download(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("download", help="fetch a pretrained model into the HF cache (offline use)")
    p.add_argument("name", help="a pretrained name or hf-hub:org/repo[@revision]")
    p.add_argument("--revision", help="another revision than the pinned one")
    p.add_argument("--cache-dir", help="HF cache directory (default: HF_HUB_CACHE)")
    p.add_argument("--force", action="store_true", help="download again (after a hash mismatch)")
    p.set_defaults(func=cmd_download)


def add_push(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="publish a model with its card to the Hugging Face Hub")
    p.add_argument("model", help="a model directory, or a run directory (its best/ is pushed)")
    p.add_argument("repo_id", help="org/name on the Hub (created if missing)")
    p.add_argument("--revision", help="branch to commit to (default main; created if missing)")
    p.add_argument("--create-pr", action="store_true", help="open a pull request instead")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--eval", help="JSON written by `zoo eval ... --output eval.json` (metrics)")
    p.add_argument("--card-template",
                   help="YAML/JSON mapping of card fields (description, license, limitations, "
                        "name, tags, ...) merged over what --eval gives")
    p.add_argument("--message", help="commit message")
    p.set_defaults(func=cmd_push)
