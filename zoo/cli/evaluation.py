"""``zoo eval``: measure a trained model on a dataset split; print a short table of the
headline metrics (:mod:`zoo.cli.eval_table`), or with ``--json`` the full result."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from zoo._io import atomic_write_text
from zoo.cli.eval_table import eval_table
from zoo.runs import model_directory


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate ``args.model`` (a run directory means its ``best/``); print the table, or the
    JSON with ``--json``; ``--output`` writes the JSON whatever is printed."""
    model = args.model
    if Path(model).is_dir():  # a run directory means its best/ (an error if there is none yet)
        model = str(model_directory(model)[0])
    from zoo.evaluate import evaluate  # imports JAX

    result = evaluate(model, args.dataset, split=args.split, batch_size=args.batch_size,
                      max_examples=args.max_examples, binarize=args.binarize,
                      iw_samples=args.iw_samples, iw_examples=args.iw_examples, seed=args.seed,
                      disentanglement_points=args.points, dci_model=args.dci_model,
                      only_disentanglement=args.only_disentanglement,
                      progress=not args.no_progress)
    text = json.dumps(result, indent=2, sort_keys=True)
    if args.output:
        atomic_write_text(args.output, text + "\n")
    if args.json:
        print(text)
        return 0
    print(eval_table(result, model))
    print(f"full result in {args.output}" if args.output
          else "full result: --json (or --output FILE)")
    return 0


def add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure a trained model on a dataset split")
    p.add_argument("model", help="a run directory (its best/), a model directory or a "
                                 "pretrained name")
    p.add_argument("--dataset", required=True,
                   help="dataset name, or your own data: an .npz or a folder of PNGs (its test "
                        "split is all of it)")
    p.add_argument("--split", default="test")
    p.add_argument("--batch-size", type=int, default=250)
    p.add_argument("--max-examples", type=int, default=0, help="evaluate on a seeded random N")
    p.add_argument("--binarize", action="store_true",
                   help="binarise the images once (seeded) - the protocol for binarised MNIST")
    p.add_argument("--iw-samples", type=int, default=0,
                   help="K for the importance-weighted NLL (e.g. 1000); 0 skips it")
    p.add_argument("--iw-examples", type=int, default=2000)
    p.add_argument("--points", type=int, default=10_000,
                   help="points for MIG/DCI/SAP (disentanglement_lib: 10,000)")
    p.add_argument("--dci-model", default="gbt", choices=["gbt", "random_forest", "lasso"],
                   help="DCI importance model (gbt is the reference and takes minutes)")
    p.add_argument("--only-disentanglement", action="store_true",
                   help="MIG/DCI/SAP only, encoding just their points (the same numbers; seconds "
                        "instead of minutes on dsprites)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true",
                   help="print the full result as JSON (default: a table of the headline metrics)")
    p.add_argument("--output", help="also write the full result as JSON to this file")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars (by default one per long pass, on stderr)")
    p.set_defaults(func=cmd_eval)
