"""``zoo bundle`` and ``check-cards``: ship trained models inside a plugin, keep cards true."""

from __future__ import annotations

import argparse
import json

from zoo.bundle import bundle
from zoo.cli.hub import _read_mapping
from zoo.errors import ZooError


def _figure(text: str) -> dict[str, str]:
    title, sep, path = text.rpartition("=")
    if not sep or not title or not path:
        raise argparse.ArgumentTypeError(f"--figure takes TITLE=PNG_PATH, got {text!r}")
    return {"title": title, "file": path}


def cmd_bundle(args: argparse.Namespace) -> int:
    card = _read_mapping(args.card_template, "card template") if args.card_template else None
    spec = bundle(args.model, args.name, args.package_dir,
                  eval_result=_read_mapping(args.eval, "eval result"), repo_id=args.repo_id,
                  revision=args.revision or "", license=args.license,
                  description=args.description or "", card=card, figures=args.figure,
                  cards_dir=args.cards_dir)
    if spec is not None:
        print(f"bundled {spec.name!r} as {spec.bundled}; manifest entry:")
        print(json.dumps({"files": dict(spec.files), "config": dict(spec.config)}, indent=2))
    print(f"model card: {args.cards_dir}/{args.name}.md")
    return 0


def cmd_check_cards(args: argparse.Namespace) -> int:
    from zoo.cardcheck import check_cards, format_report  # imports JAX

    rows = check_cards(args.names or None, cards_dir=args.cards_dir, fast=args.fast,
                       rtol=args.rtol, atol=args.atol, progress=not args.no_progress)
    print(format_report(rows))
    if any(r.ok is False for r in rows):
        raise ZooError("some model cards no longer match their weights (MISMATCH above): "
                       "re-measure and re-bundle them, or find what changed")
    return 0


def add_bundle(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bundle", help="ship a trained model inside a plugin package, with its "
                                      "manifest entry and model card")
    p.add_argument("model", help="a run directory (its best/ is bundled) or a model directory")
    p.add_argument("name", help="the pretrained name to register, e.g. vqvae-mnist")
    p.add_argument("--package-dir", required=True,
                   help="the plugin's package directory, e.g. plugins/zoo-vqvae/zoo_vqvae")
    p.add_argument("--eval", required=True,
                   help="JSON written by `zoo eval ... --output eval.json` (the card's metrics)")
    p.add_argument("--repo-id", required=True, help="Hub repository it is published to")
    p.add_argument("--revision", help="the commit sha `zoo push` printed (omit if unpublished)")
    p.add_argument("--license", default="apache-2.0")
    p.add_argument("--description", help="one paragraph for the card and listings")
    p.add_argument("--card-template", help="YAML/JSON mapping of extra card fields "
                                           "(limitations, notes, train_command, tags, ...)")
    p.add_argument("--figure", action="append", type=_figure, default=[],
                   metavar="TITLE=PNG", help="a figure to show in the card (repeatable)")
    p.add_argument("--cards-dir", default="model_cards", help="where model cards live")
    p.set_defaults(func=cmd_bundle)


def add_check_cards(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-cards", help="measure bundled models again and compare with "
                                           "their model cards")
    p.add_argument("names", nargs="*", help="pretrained names (default: every card)")
    p.add_argument("--cards-dir", default="model_cards")
    p.add_argument("--fast", action="store_true",
                   help="skip IW-NLL, MIG/DCI/SAP and large evaluation sets (reported skipped)")
    p.add_argument("--rtol", type=float, default=0.01, help="relative tolerance")
    p.add_argument("--atol", type=float, default=1e-3, help="absolute tolerance")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress (by default the card being measured and a bar per long "
                        "pass, on stderr)")
    p.set_defaults(func=cmd_check_cards)
