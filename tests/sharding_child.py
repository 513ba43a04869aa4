"""Run ``zoo`` command lines in a fresh process with the test world registered explicitly (the
built-ins, the first-party plugins, the 'stripes' dataset): what tests/test_sharding.py starts
with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``, which must be set before JAX starts.

    python tests/sharding_child.py '[["train", "beta-vae", ...], ...]'

Prints one JSON line: ``{"devices": jax.device_count() or null, "runs": [{"rc", "err"}, ...]}``
(``err``: what the command wrote to stderr). A command that joins a multi-process run
(``--coordinator``) has its stderr passed through instead, since the process may end inside it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ["ZOO_DISABLE_PLUGIN_AUTOLOAD"] = "1"

from conftest import world_manager

from zoo.cli import main
from zoo.plugins import use_manager


def run(commands: list[list[str]]) -> dict:
    runs = []
    with use_manager(world_manager()):
        for argv in commands:
            if "--coordinator" in argv:
                runs.append({"rc": main(argv), "err": ""})
                continue
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = main(argv)
            runs.append({"rc": rc, "err": err.getvalue()})
    import jax  # after the commands: a multi-process one must start JAX itself

    return {"devices": jax.device_count(), "runs": runs}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
