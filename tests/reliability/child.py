"""What the reliability tests run in a fresh process (to kill it, or to race it against another),
with the test world registered explicitly (built-ins, first-party plugins, 'stripes'):

    python tests/reliability/child.py save-loop TARGET
        print "ready", then zoo.save two different models into TARGET in turn, forever
    python tests/reliability/child.py claim RUN_DIR START_AT [resume]
        wait until time.time() >= START_AT, claim RUN_DIR as a new run (or resume it), hold it
        for 1 s; print "claimed" or "refused: <error>"
    python tests/reliability/child.py load REF ENDPOINT CACHE_DIR START_AT
        at START_AT, zoo.load(REF) from the Hub at ENDPOINT into CACHE_DIR; print "ok LATENT"
    python tests/reliability/child.py zoo ARG...
        run the command line ``zoo ARG...``; exit with its status
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ZOO_DISABLE_PLUGIN_AUTOLOAD"] = "1"

from conftest import world_manager

from zoo.plugins import use_manager

#: The two models save-loop alternates between: different configs (latent size), so a
#: directory that mixed one's weights with the other's config would not load.
MODELS = ({"hidden_dims": (8,), "latent_dim": 2}, {"hidden_dims": (8,), "latent_dim": 3})


def save_loop(target: str) -> None:
    import zoo

    models = [zoo.create("beta-vae", seed=i, **kw) for i, kw in enumerate(MODELS)]
    print("ready", flush=True)
    i = 0
    while True:
        zoo.save(models[i % 2], target)
        i += 1


def claim(run_dir: str, start_at: float, resume: bool = False) -> None:
    from zoo.runs import RunDir, RunError

    while time.time() < start_at:
        time.sleep(0.0005)
    try:
        identity = {"variant": "x"} if resume else {"variant": "x", "pid": os.getpid()}
        RunDir(run_dir).claim(identity, resume=resume)
    except RunError as exc:
        print(f"refused: {exc}", flush=True)
        return
    print("claimed", flush=True)
    time.sleep(1.0)


if __name__ == "__main__":
    with use_manager(world_manager()):
        if sys.argv[1] == "save-loop":
            save_loop(sys.argv[2])
        elif sys.argv[1] == "claim":
            claim(sys.argv[2], float(sys.argv[3]), sys.argv[4:] == ["resume"])
        elif sys.argv[1] == "load":
            import zoo

            ref, endpoint, cache, start_at = sys.argv[2:6]
            while time.time() < float(start_at):
                time.sleep(0.0005)
            model = zoo.load(ref, endpoint=endpoint, cache_dir=cache)
            print(f"ok {model.config.latent_dim}", flush=True)
        elif sys.argv[1] == "zoo":
            from zoo.cli import main

            sys.exit(main(sys.argv[2:]))
        else:
            raise SystemExit(f"unknown mode {sys.argv[1]!r}")
