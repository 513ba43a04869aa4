"""The runnable guide in examples/: every example runs, as the notebook its script generates, in
quick mode, and draws its pictures; every committed .ipynb is the notebook its .py generates.

Each ``examples/NAME.py`` is a jupytext percent script (the source of truth). Here it is turned
into a notebook in a temporary directory with jupytext's Python API and executed with nbclient
(kernel ``python3``, ipykernel), with ``ZOO_EXAMPLES_QUICK=1`` and ``ZOO_EXAMPLES_OUT`` pointing
into ``tmp_path``. The examples that push to a Hub get the local Hub-compatible test server
(tests/hub_server.py) through ``HF_ENDPOINT``, ``HF_TOKEN`` and ``ZOO_EXAMPLES_HUB_REPO``.

Regenerate a committed notebook after editing its script (``--update`` keeps the cell ids, so
the diff shows only what changed): ``jupytext --update --to ipynb examples/NAME.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from .hub_server import running_hub

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

#: Every example and the pictures its quick mode must write into ``OUT/NAME/`` (glob patterns).
PICTURES = {
    "beta_vae": ["tradeoff.png", "annealing.png", "traversal_beta1.png",
                 "traversal_beta16.png", "traversal_annealed.png"],
    "capacity_control": ["kl_vs_capacity.png", "kl_per_latent.png", "traversal.png"],
    "conditional_vae": ["class_samples_run.png", "class_samples_pretrained.png",
                        "style_transfer_run.png", "style_transfer_pretrained.png"],
    # one pair per dSprites model: those bundled, or the recipe trained for 100 steps if none is
    "dsprites_disentanglement": ["*_mutual_info.png", "*_traversal.png", "mutual_info_matrix.png"],
    "pretrained_zoo": ["reconstructions.png"],
    "third_party_plugin": ["reconstructions.png", "samples.png"],
    "vqvae": ["codebook_health.png", "codebook_usage_run.png", "codebook_usage_pretrained.png",
              "reconstructions_run.png", "reconstructions_pretrained.png"],
}
#: Examples that push to a Hub when ``ZOO_EXAMPLES_HUB_REPO`` is set: run against a local one.
PUSHES = {"pretrained_zoo", "third_party_plugin"}
#: The repository the pushing examples publish to, on the local Hub.
HUB_REPO = "zoo-examples/example-model"
#: Seconds one cell may run (quick mode trains for seconds; JAX compiles for some more).
CELL_TIMEOUT = 300


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def test_every_example_is_tested() -> None:
    scripts = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(PICTURES), "list each example's pictures in PICTURES"


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_committed_notebook_matches_its_script(name: str) -> None:
    script = jupytext.read(EXAMPLES / f"{name}.py")
    notebook = EXAMPLES / f"{name}.ipynb"
    assert notebook.is_file(), f"generate it: jupytext --update --to ipynb examples/{name}.py"
    committed = nbformat.read(notebook, as_version=4)
    assert _cells(committed) == _cells(script), (
        f"examples/{name}.ipynb is out of date with its script; regenerate it: "
        f"jupytext --update --to ipynb examples/{name}.py")
    for cell in committed.cells:
        assert not cell.get("outputs"), f"examples/{name}.ipynb: commit it without outputs"
    assert committed.metadata["kernelspec"]["name"] == "python3"


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A local Hub for the examples that push: the variables that point zoo at it."""
    with running_hub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_TOKEN", server.token)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        monkeypatch.setenv("ZOO_EXAMPLES_HUB_REPO", HUB_REPO)
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        yield server


@pytest.mark.parametrize("name", sorted(PICTURES))
def test_example_runs_as_a_notebook(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    request: pytest.FixtureRequest) -> None:
    notebook = tmp_path / f"{name}.ipynb"
    jupytext.write(jupytext.read(EXAMPLES / f"{name}.py"), notebook)
    out = tmp_path / "out"
    monkeypatch.setenv("ZOO_EXAMPLES_QUICK", "1")
    monkeypatch.setenv("ZOO_EXAMPLES_OUT", str(out))
    monkeypatch.delenv("ZOO_EXAMPLES_HUB_REPO", raising=False)
    server = request.getfixturevalue("hub_env") if name in PUSHES else None
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    print(f"{name}: {time.perf_counter() - start:.0f} s")
    missing = [p for p in PICTURES[name] if not any(f.is_file() for f in (out / name).glob(p))]
    assert not missing, f"{name} did not draw {missing}"
    if server is not None:
        assert HUB_REPO in server.repos, f"{name} pushed nothing to the local Hub"
