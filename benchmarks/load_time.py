"""How long ``zoo.load(NAME)`` takes in a fresh process, and what it imports, for every bundled
pretrained model (and ``import zoo`` alone), printed as a table.

    python benchmarks/load_time.py [--runs 5] [--names a,b] [--json]

Each measurement is a new Python process that imports ``jax`` and ``flax.nnx`` first, then
times ``import zoo; zoo.load(NAME)`` (the issue's definition: the time beyond JAX and Flax).
Runs of different names are interleaved, and the median of ``--runs`` is reported with the
minimum and maximum: machines are shared and noisy, so compare numbers from one invocation.

Beside the time, each row lists the heavy modules the load imported: huggingface_hub,
matplotlib, sklearn, and the modules of every installed plugin other than the one that
provides the name (an offline load of a bundled model needs none of them).

Python's bytecode cache matters: with ``PYTHONDONTWRITEBYTECODE=1`` and no ``__pycache__``
beside the sources, every zoo module is compiled from source in every process (tens of ms).
The header says which case was measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import zoo

#: Imported by every process before the clock starts.
BASELINE = "import jax, flax.nnx"
#: Libraries an offline load must not need.
HEAVY = ("huggingface_hub", "matplotlib", "sklearn")
#: The directory holding the ``zoo`` package this script measures.
ZOO_ROOT = str(Path(zoo.__file__).resolve().parents[1])
#: ``import zoo`` alone, measured as a row of its own.
IMPORT_ONLY = "(import zoo)"

#: Run in each child: time the load, then report what it imported as JSON on the last line.
CHILD = """
import json, sys, time
{baseline}
start = time.perf_counter()
import zoo
name = sys.argv[1]
if name != {import_only!r}:
    model = zoo.load(name)
seconds = time.perf_counter() - start
import importlib.metadata
from zoo.plugins import manager_for
own = set()
if name != {import_only!r}:
    manager = manager_for(name)
    plugin = manager.plugins[manager.registry.lookup(name).plugin]
    own.add((plugin.module or "").partition(":")[0].split(".")[0])
roots = {{ep.value.partition(":")[0].split(".")[0]
         for ep in importlib.metadata.entry_points(group="zoo")}} - own
heavy = set({heavy!r})
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & (heavy | roots))
print(json.dumps({{"seconds": seconds, "imported": loaded}}))
"""


def bundled_names() -> list[str]:
    """Every registered pretrained name whose files are bundled with its plugin."""
    from zoo.hub.resolve import bundled_files
    from zoo.plugins import get_manager

    registry = get_manager().registry
    return sorted(n for n, spec in registry.pretrained.items() if bundled_files(spec) is not None)


def measure_once(name: str) -> dict[str, Any]:
    """One fresh process: ``{"seconds": float, "imported": [module, ...]}``."""
    code = CHILD.format(baseline=BASELINE, import_only=IMPORT_ONLY, heavy=HEAVY)
    env = {k: v for k, v in os.environ.items()
           if k not in ("ZOO_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD")}
    env["HF_HUB_OFFLINE"] = "1"  # a bundled load never needs the network
    # the zoo this script imports, whatever the current directory holds
    env["PYTHONPATH"] = os.pathsep.join([ZOO_ROOT, *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True,
                          env=env, cwd=tempfile.gettempdir(), timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {name!r} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(names: list[str], runs: int) -> list[dict[str, Any]]:
    """Median, min and max seconds of ``runs`` interleaved fresh-process measurements per name,
    and the heavy modules any of them imported."""
    times: dict[str, list[float]] = {n: [] for n in names}
    imported: dict[str, set[str]] = {n: set() for n in names}
    for _ in range(runs):
        for name in names:
            out = measure_once(name)
            times[name].append(out["seconds"])
            imported[name].update(out["imported"])
    return [{"name": n, "median_s": statistics.median(times[n]), "min_s": min(times[n]),
             "max_s": max(times[n]), "runs": runs, "imported": sorted(imported[n])}
            for n in names]


def _bytecode_note() -> str:
    if sys.flags.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return "bytecode not written (PYTHONDONTWRITEBYTECODE): modules without .pyc compile"
    return "bytecode cached (__pycache__ or PYTHONPYCACHEPREFIX)"


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, measure, print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per name")
    parser.add_argument("--names", default="", help="comma list; default: every bundled name")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    names = [IMPORT_ONLY, *(args.names.split(",") if args.names else bundled_names())]
    rows = measure(names, max(args.runs, 1))
    if args.json:
        print(json.dumps({"baseline": BASELINE, "bytecode": _bytecode_note(), "rows": rows},
                         indent=2))
        return
    print(f"time of `import zoo; zoo.load(NAME)` beyond `{BASELINE}`, fresh processes, "
          f"median of {args.runs}; {_bytecode_note()}")
    print(f"{'name':<26} {'median s':>9} {'min s':>7} {'max s':>7}  imported (heavy, plugins)")
    for row in rows:
        print(f"{row['name']:<26} {row['median_s']:>9.3f} {row['min_s']:>7.3f} "
              f"{row['max_s']:>7.3f}  {', '.join(row['imported']) or '-'}")


if __name__ == "__main__":
    main()
