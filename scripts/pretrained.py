"""Reproduce, measure and bundle the zoo's own pretrained models.

    python scripts/pretrained.py train NAME --runs runs/       # zoo train VARIANT --preset NAME
    python scripts/pretrained.py bundle NAME --runs runs/      # zoo eval + figures + zoo bundle
    python scripts/pretrained.py bundle NAME --run R1 --seed-runs R0 R1 R2   # ship R1, report all
    python scripts/pretrained.py figures NAME  # redraw the card's factor figures (shipped model)
    python scripts/pretrained.py list

This script keeps no recipe of its own. A recipe is a preset with a ``release``
(:class:`zoo.PresetSpec`), registered through ``zoo_register_presets`` by the plugin that owns
the variant: the training config and seed, the evaluation options its card's numbers come from,
the figures its card shows and the card's text. ``bundle`` writes the weights into the package
of the plugin that registered the preset (the directory of its entry-point module), its manifest
entry and ``model_cards/NAME.md``; ``zoo check-cards`` measures them again. A release with
``card_only`` (weights that already ship, e.g. the core's classifier-mnist) only rewrites the
card from the bundled copy.

``--seed-runs`` names every run of the recipe under different seeds (each run's seed is its
run.json's ``train_config.seed``; the shipped ``--run`` is one of them). Each is measured like
the shipped run (``RUN/eval.json``; MIG/DCI/SAP only, on the same points, for the seeds that do
not ship), and the card gets a "Seeds" section: one row per seed,
their median, min and max, the scores beside the release's ``published`` ranges
(``seeds.png``) and MIG against images seen from each run's ``mig_curve.jsonl``
(``mig_curve.png``), both drawn into the shipped run's ``plots/``.

On data with ground-truth factors, ``bundle`` redraws the card's ``traversal.png`` and
``mutual_info.png`` on the split and points the card's MIG is measured on (training drew them on
its validation split), so their labels and MIG are the card's; ``figures`` redraws them for a
model already bundled.
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
        raise SystemExit(f"{name}: no bundled copy of it is found; bundle it first")
    return files["config.json"].parent


def _evaluation(model: Path, run: Path, dataset: str, options: dict, reuse: bool, *,
                only_disentanglement: bool = False, progress: bool = True) -> dict:
    """``RUN/eval.json``: measured with the recipe's options, or reused (``--reuse-eval``) if it
    was measured with them. ``only_disentanglement`` (the seeds that do not ship: their row is
    MIG/DCI/SAP) measures just those, on the same points, unless a full evaluation is saved."""
    from zoo.evaluate import evaluate

    saved = run / "eval.json"
    result = json.loads(saved.read_text()) if reuse and saved.is_file() else None
    if (result is None or result.get("dataset") != dataset
            or any(result["options"].get(k) != v for k, v in options.items())
            or (result["options"].get("only_disentanglement") and not only_disentanglement)):
        if not model.exists():
            raise SystemExit(f"{run} has no measurement to reuse and no {model.name}/ to "
                             "measure: pass a finished run directory")
        result = evaluate(model, dataset, **options, only_disentanglement=only_disentanglement,
                          progress=progress)
        saved.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def _seed_of(run: Path) -> int:
    """The training seed of ``run`` (its run.json). A seed that does not ship needs its
    ``best/`` only to be measured: a record of a finished run (run.json, eval.json,
    mig_curve.jsonl) with ``--reuse-eval`` is enough."""
    if not (run / "run.json").exists():
        raise SystemExit(f"seed run {run} has no run.json: pass run directories")
    return int(json.loads((run / "run.json").read_text())["train_config"]["seed"])


def _seed_figures(run: Path, seed_runs: dict[Path, dict], shipped: Path,
                  published: dict) -> list[dict[str, str]]:
    """Draw the card's per-seed figures into ``RUN/plots/``; return their figure entries."""
    from zoo.cards_seeds import MIG_FLOOR, seed_entry
    from zoo.viz import read_history, save_mig_curves, save_seed_scores

    seeds = {r: _seed_of(r) for r in seed_runs}
    entries = [seed_entry(seeds[r], result) for r, result in seed_runs.items()]
    scores = save_seed_scores(run / "plots" / "seeds.png", entries,
                              shipped_seed=seeds[shipped], published=published)
    figures = [{"title": "Scores of each seed (dots; the shipped seed a red star)"
                         + (" beside published ranges (grey bars)" if published else ""),
                "file": str(scores)}]
    curves = {}
    for r in sorted(seed_runs, key=seeds.get):
        if (r / "mig_curve.jsonl").is_file():
            label = f"seed {seeds[r]}" + (" (shipped)" if r == shipped else "")
            curves[label] = read_history(r / "mig_curve.jsonl")
        else:
            print(f"note: {r} has no mig_curve.jsonl (scripts/mig_curve.py watch writes it while "
                  "the run trains); its curve is left out", file=sys.stderr)
    if curves:
        path = save_mig_curves(run / "plots" / "mig_curve.png", curves, floor=MIG_FLOOR,
                               highlight=f"seed {seeds[shipped]} (shipped)")
        figures.append({"title": "MIG (10,000 points, 20 bins) against images seen, one line per "
                                 f"seed; dashed: the floor {MIG_FLOOR:g}", "file": str(path)})
    return figures


FACTOR_FIGURES = ("traversal.png", "mutual_info.png")


def _factor_figures(model: Path, release: dict, out_dir: Path) -> list[Path]:
    """Draw the release's factor figures (``traversal.png``, ``mutual_info.png``) of the model
    saved in ``model`` on the split and points its card's MIG is measured on, so the MIG and
    labels they show are the card's (training draws them on its validation split); returns the
    files written, none when the release shows no such figure or its data has no factors.
    Each file is drawn beside its target and renamed over it: a kill leaves the old one."""
    import tempfile

    import zoo
    from zoo import viz

    wanted = [f for f in FACTOR_FIGURES if f in release.get("figures", {})]
    if not wanted:
        return []
    options = release["eval"]
    ds = zoo.load_dataset(options["dataset"], options.get("split", "test"))
    if ds.factors is None:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".figures-") as tmp:
        drawn = viz.factor_traversal(
            zoo.load(model), ds, Path(tmp) / "traversal.png",
            mutual_info_path=Path(tmp) / "mutual_info.png" if "mutual_info.png" in wanted
            else None, points=options.get("disentanglement_points", 10_000),
            seed=options.get("seed", 0))
        written = []
        for path in drawn:
            if path.name in wanted:
                path.replace(out_dir / path.name)
                written.append(out_dir / path.name)
    return written


def cmd_figures(args: argparse.Namespace) -> None:
    """Redraw the card's factor figures of the bundled model into ``model_cards/assets/NAME/``
    (what ``bundle`` draws into the run's ``plots/`` before copying them there)."""
    release = dict(releases()[args.name].release or {})
    written = _factor_figures(_shipped_copy(args.name), release,
                              ROOT / "model_cards" / "assets" / args.name)
    if not written:
        raise SystemExit(f"{args.name}: its card shows no factor figure (or its data has no "
                         "factors): nothing to draw")
    print("\n".join(str(p.relative_to(ROOT)) for p in written))


def cmd_bundle(args: argparse.Namespace) -> None:
    from zoo.bundle import bundle

    preset = releases()[args.name]
    release = dict(preset.release or {})
    card_only = bool(release.get("card_only"))
    run = args.run or args.runs / args.name
    seed_list = list(args.seed_runs or ())
    if seed_list and card_only:
        raise SystemExit(f"{args.name}: release says card_only; it has no seed runs to report")
    if seed_list and run.resolve() not in {r.resolve() for r in seed_list}:
        raise SystemExit(f"the shipped run {run} is not one of --seed-runs "
                         f"({' '.join(map(str, seed_list))}): ship one of the seeds")
    for r in seed_list:
        _seed_of(r)
    model = _shipped_copy(args.name) if card_only else run / "best"
    run.mkdir(parents=True, exist_ok=True)
    options = dict(release["eval"])
    dataset = options.pop("dataset")
    progress = not args.no_progress
    result = _evaluation(model, run, dataset, options, args.reuse_eval, progress=progress)
    seed_runs = {r: result if r.resolve() == run.resolve()
                 else _evaluation(r / "best", r, dataset, options, args.reuse_eval,
                                  only_disentanglement=True, progress=progress)
                 for r in seed_list}
    shipped = next((r for r in seed_list if r.resolve() == run.resolve()), run)
    _factor_figures(model, release, run / "plots")
    figures = [{"title": title, "file": str(run / "plots" / fname)}
               for fname, title in release.get("figures", {}).items()]
    published = dict(release.get("published") or {})
    seed_figures = _seed_figures(run, seed_runs, shipped, published) if seed_runs else []
    card = {"limitations": release["limitations"], "description": release["description"],
            "pipeline_tag": release.get("pipeline_tag"),
            "train_command": _train_command(preset),
            "published": published if seed_runs and published else None}
    if args.notes:
        card["notes"] = args.notes.read_text(encoding="utf-8")
    package = None if card_only else plugin_package(preset)
    spec = bundle(model if card_only else run, args.name, package, eval_result=result,
                  repo_id=f"{REPO_ORG}/{args.name}", description=release["summary"],
                  card=card, figures=figures, cards_dir=ROOT / "model_cards",
                  seed_runs=seed_runs or None, seed_figures=seed_figures)
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
        if name == "bundle":
            p.add_argument("--seed-runs", type=Path, nargs="+", metavar="RUN",
                           help="every run of the recipe under another seed, --run among them: "
                                "the card reports each seed (table, figures)")
            p.add_argument("--no-progress", action="store_true",
                           help="no progress bars while measuring (stderr)")
        p.set_defaults(func=func)
    sub.add_parser("list", help="the publishable recipes: name, variant, plugin").set_defaults(
        func=cmd_list)
    p = sub.add_parser("figures", help="redraw a bundled model's factor figures (traversal, MI "
                                       "matrix) into its card's assets, on its card's points")
    p.add_argument("name", help="a preset with a release (see `list`)")
    p.set_defaults(func=cmd_figures)
    args = parser.parse_args()
    if getattr(args, "name", None) is not None and args.name not in releases():
        known = ", ".join(sorted(releases())) or "none"
        parser.error(f"no preset with a release is named {args.name!r}; known: {known}")
    args.func(args)


if __name__ == "__main__":
    main()
