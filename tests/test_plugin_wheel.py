"""Third-party plugins for real: build wheels with standard tooling (``pip wheel``), install them
into a fresh virtual environment, use them from new processes, uninstall them.

Built: the skeleton ``zoo new-plugin`` writes, and the example beta-TCVAE plugin
(``plugins/zoo-betatcvae``) when it is in the tree. The fresh venv has no packages of its own; it
sees this environment's packages (the core, JAX, Flax, ...) through a directory of symlinks that
leaves out the distributions under test, so whatever it finds of them comes from the wheels, and
nothing in this environment is touched. Offline: the build backend comes from the configured
package index, the wheels are installed with ``--no-index``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from zoo.scaffold import new_plugin

from .hub_server import running_hub

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BETATCVAE = ROOT / "plugins" / "zoo-betatcvae"
FIRST_PARTY = {"beta-vae", "cvae", "vqvae"}

# Run in the fresh venv: a model of VARIANT builds, the trained run loads, and a save/load round
# trip is bit-exact; prints where the plugin's package was imported from.
CHECK_MODEL = """
import importlib, json, sys, tempfile
import numpy as np
import zoo
from zoo.checkpoint import flat_state

variant, package, run = sys.argv[1:4]
model = zoo.create(variant, seed=1)
trained = zoo.load(run + "/best")
assert type(trained.config) is type(model.config)
with tempfile.TemporaryDirectory() as tmp:
    again = zoo.load(zoo.save(trained, tmp))
a, b = flat_state(trained), flat_state(again)
assert a.keys() == b.keys()
for key in a:
    x, y = np.asarray(a[key].get_value()), np.asarray(b[key].get_value())
    assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), key
print(json.dumps({"file": importlib.import_module(package).__file__,
                  "variant": trained.zoo_variant, "tensors": len(a)}))
"""

# Run in the fresh venv when MNIST is not available: a few training steps through zoo.train on a
# random dataset registered in-process.
TRAIN_IN_PROCESS = """
import sys
import numpy as np
import zoo
from zoo.data import ArrayDataset
from zoo.plugins import get_manager
from zoo.train import TrainConfig, train

variant, run = sys.argv[1:3]

class Noise:
    @zoo.hookimpl
    def zoo_register_datasets(self, register):
        def loader(partition, *, cache_dir=None, **options):
            rng = np.random.default_rng(0 if partition == "train" else 1)
            images = (rng.random((256, 28, 28, 1)) < 0.2).astype(np.uint8) * 255
            return ArrayDataset(images=images, labels=rng.integers(0, 10, 256), name="noise",
                                split="", num_classes=10)
        register(zoo.DatasetSpec(name="noise", loader=loader, num_classes=10))

get_manager().register(Noise(), name="noise")
tc = TrainConfig(dataset="noise", max_steps=2, batch_size=32, validation_size=64, eval_every=2,
                 checkpoint_every=2, log_every=1)
train(variant, out=run, train_config=tc, progress=False)
"""


# Run in the fresh venv, offline: the model pulled from the Hub (cache) equals the local run's.
SAME_AS_PUSHED = """
import sys
import numpy as np
import zoo
from zoo.checkpoint import flat_state

ref, run = sys.argv[1:3]
a, b = flat_state(zoo.load(ref)), flat_state(zoo.load(run + "/best"))
assert a.keys() == b.keys()
assert all(np.asarray(a[k].get_value()).tobytes() == np.asarray(b[k].get_value()).tobytes()
           for k in a)
print(len(a))
"""


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 300) -> str:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}\n--- stdout\n"
                             f"{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout


def _installed_here(distribution: str) -> list[str]:
    """Top-level entries of this environment's site-packages that belong to ``distribution``."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return []
    return sorted({Path(str(f)).parts[0] for f in dist.files or ()})


def _shadow_site(target: Path, hide: list[str]) -> Path:
    """A directory of symlinks to this environment's site-packages entries, except those of the
    distributions in ``hide``."""
    target.mkdir()
    hidden = {entry for dist in hide for entry in _installed_here(dist)}
    for site in dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]):
        for entry in Path(site).iterdir():
            if entry.name not in hidden and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("plugin-wheel")
    sources = base / "src"
    sources.mkdir()
    plugins = {"zoo-wheeldemo": (new_plugin("wheeldemo", sources), "wheeldemo", "zoo_wheeldemo")}
    if (BETATCVAE / "pyproject.toml").is_file():
        copy = shutil.copytree(BETATCVAE, sources / BETATCVAE.name, ignore=shutil.ignore_patterns(
            "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
        plugins["zoo-betatcvae"] = (copy, "beta-tcvae", "zoo_betatcvae")
    wheels = base / "wheels"
    for source, _, _ in plugins.values():
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, source],
             dict(os.environ), base)
    built = sorted(wheels.glob("*.whl"))
    assert len(built) == len(plugins), built
    by_dist = {dist: next(w for w in built if w.name.startswith(dist.replace("-", "_") + "-"))
               for dist in plugins}

    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], dict(os.environ), base)
    python = venv / "bin" / "python"
    venv_site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], dict(os.environ), base).strip())
    shadow = _shadow_site(base / "shadow-site", list(plugins))
    (venv_site / "zz_zoo_test_shadow.pth").write_text(
        f"import site; site.addsitedir({str(shadow)!r})\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env |= {"ZOO_CACHE": str(base / "cache"), "PYTHONNOUSERSITE": "1",
            "ZOO_STRICT_PLUGINS": "1", "PIP_NO_INPUT": "1"}
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", *built], env, base)
    return {"base": base, "python": python, "env": env, "plugins": plugins, "site": venv_site,
            "wheels": by_dist}


def _zoo(installed: dict[str, Any], *args: str) -> str:
    return _run([installed["python"], "-m", "zoo.cli", *args], installed["env"], installed["base"])


def test_wheels_install_train_save_load_and_uninstall(installed: dict[str, Any]) -> None:
    base, python, env = installed["base"], installed["python"], installed["env"]
    plugins = installed["plugins"]
    variants = {variant for _, variant, _ in plugins.values()}

    listed = {row["name"] for row in json.loads(_zoo(installed, "list", "--json"))}
    assert variants | {"beta-vae", "cvae", "vqvae"} <= listed
    infos = {p["name"]: p for p in json.loads(_zoo(installed, "plugins", "--json"))}
    assert not [p for p in infos.values() if p["errors"]]
    assert infos["wheeldemo"]["distribution"] == "zoo-wheeldemo"
    assert infos["wheeldemo"]["variants"] == ["wheeldemo"]

    mnist = importlib.util.find_spec("mnist") is not None
    for dist, (_, variant, package) in plugins.items():
        run = base / f"run-{variant}"
        if mnist:
            _zoo(installed, "train", variant, "--dataset", "mnist", "--preset", "smoke",
                 "max_steps=2", "eval_every=2", "checkpoint_every=2", "log_every=1",
                 "--out", str(run), "--no-progress")
        else:
            _run([python, "-c", TRAIN_IN_PROCESS, variant, run], env, base)
        out = json.loads(_run([python, "-c", CHECK_MODEL, variant, package, run], env, base))
        assert out["variant"] == variant and out["tensors"] > 0
        assert Path(out["file"]).is_relative_to(installed["site"]), (dist, out["file"])
        if mnist and dist == "zoo-betatcvae":
            _evaluate_push_and_pull(installed, variant, run)

    _run([python, "-m", "pip", "uninstall", "-y", "--quiet", *plugins], env, base)
    listed = {row["name"] for row in json.loads(_zoo(installed, "list", "--json"))}
    assert not variants & listed
    assert {"beta-vae", "cvae", "vqvae"} <= listed  # nothing else broke
    infos = {p["name"]: p for p in json.loads(_zoo(installed, "plugins", "--json"))}
    assert "wheeldemo" not in infos and not [p for p in infos.values() if p["errors"]]
    gone = ("import zoo, sys\ntry:\n    zoo.load(sys.argv[1])\nexcept zoo.ZooError as exc:\n"
            "    print(exc)\n")
    message = _run([python, "-c", gone, base / "run-wheeldemo" / "best"], env, base)
    assert "pip install zoo-wheeldemo" in message
    assert not list(installed["site"].glob("zoo_wheeldemo*"))
    with pytest.raises(importlib.metadata.PackageNotFoundError):  # this env never had it
        importlib.metadata.distribution("zoo-wheeldemo")


def _evaluate_push_and_pull(installed: dict[str, Any], variant: str, run: Path) -> None:
    """``zoo eval``, ``zoo push`` to a Hub server on 127.0.0.1, ``zoo download``, then an offline
    ``zoo.load`` of the pushed model: the same path as a first-party variant's."""
    base, python = installed["base"], installed["python"]
    evaluation = base / f"eval-{variant}.json"
    _zoo(installed, "eval", str(run / "best"), "--dataset", "mnist", "--max-examples", "256",
         "--output", str(evaluation))
    assert json.loads(evaluation.read_text())["variant"] == variant
    with running_hub() as hub:
        env = installed["env"] | {
            "HF_ENDPOINT": hub.url, "HF_TOKEN": hub.token, "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_CACHE": str(base / "hf-cache"), "HF_HOME": str(base / "hf-home")}
        repo = f"someone/{variant}-test"
        pushed = _run([python, "-m", "zoo.cli", "push", run, repo, "--eval", evaluation], env,
                      base).splitlines()
        sha = pushed[-1]
        assert pushed[0] == f"pushed to {repo}@main" and sha == hub.head(repo)
        card = hub.files(repo)["README.md"].decode()
        assert f"zoo train {variant}" in card and "reconstruction_mse" in card
        _run([python, "-m", "zoo.cli", "download", f"hf-hub:{repo}@{sha}"], env, base)
    offline = env | {"HF_HUB_OFFLINE": "1"}  # the server is gone: the cache must suffice
    tensors = _run([python, "-c", SAME_AS_PUSHED, f"hf-hub:{repo}@{sha}", run], offline, base)
    assert int(tensors) > 0


def test_the_skeletons_own_tests_pass_against_the_installed_wheel(
        installed: dict[str, Any]) -> None:
    """The README's recipe: the skeleton's tests, copied out of its source tree (whose
    ``pythonpath = ["src"]`` would test the source), run in the fresh venv against the installed
    wheel, through the fixtures that the core's pytest11 entry point provides. A test added to the
    copy proves what they imported is the wheel's package in the venv's site-packages."""
    base, python, env = installed["base"], installed["python"], installed["env"]
    source = installed["plugins"]["zoo-wheeldemo"][0]
    # Installed again: the test above ends by uninstalling every wheel.
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
          "--force-reinstall", installed["wheels"]["zoo-wheeldemo"]], env, base)
    kit = shutil.copytree(source / "tests", base / "kit-tests")
    (kit / "test_imports_the_wheel.py").write_text(
        "from pathlib import Path\nimport zoo_wheeldemo\n\n\n"
        "def test_the_package_is_the_installed_wheel():\n"
        f"    site = Path({str(installed['site'])!r}).resolve()\n"
        "    assert Path(zoo_wheeldemo.__file__).resolve().is_relative_to(site), "
        "zoo_wheeldemo.__file__\n")
    try:
        out = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", kit.name], env, base,
                   timeout=900)
    finally:
        _run([python, "-m", "pip", "uninstall", "-y", "--quiet", "zoo-wheeldemo"], env, base)
    assert "3 passed" in out, out
