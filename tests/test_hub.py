"""The Hub layer end to end (API and CLI): the real huggingface_hub client against
tests/hub_server.py.

Nothing here touches the network: the server runs on 127.0.0.1, every call gets its endpoint and
a temporary HF cache explicitly, and the environment is pointed at them too.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

import zoo
from zoo import cards
from zoo.checkpoint import flat_state
from zoo.cli import main
from zoo.hub import HashMismatchError, HubError, fetch_hub_ref, sha256_file
from zoo.plugins import PluginManager, use_manager

from .conftest import ToyPlugin
from .hub_server import HubServer, running_hub

CARD = {"metrics": {"reconstruction_mse": 0.0125}, "dataset": "stripes", "split": "test",
        "eval_command": "zoo eval RUN/best --dataset stripes", "license": "apache-2.0"}
_names = itertools.count()


class Hub:
    """The running server plus the keyword arguments that point zoo at it."""

    def __init__(self, server: HubServer, cache: Path) -> None:
        self.server, self.cache = server, cache
        self.kw: dict[str, Any] = {"endpoint": server.url, "cache_dir": str(cache)}

    def repo(self) -> str:
        return f"zoo-test/model-{next(_names)}"


@pytest.fixture(scope="module")
def hub_server() -> Any:
    with running_hub() as server:
        yield server


@pytest.fixture
def hub(hub_server: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hub:
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_ENDPOINT", hub_server.url)
    monkeypatch.setenv("HF_TOKEN", hub_server.token)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return Hub(hub_server, cache)


def _weights(model: Any) -> dict[str, bytes]:
    return {k: np.asarray(v.get_value()).tobytes() for k, v in flat_state(model).items()}


def _model(seed: int) -> Any:
    model = zoo.create("toy", seed=seed)
    model.stat.set_value(jnp.full((4,), float(seed)))
    return model


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PretrainedPlugin:
    def __init__(self, *specs: zoo.PretrainedSpec) -> None:
        self.specs = specs

    @zoo.hookimpl
    def zoo_register_pretrained(self, register: Any) -> None:
        for spec in self.specs:
            register(spec)


def _spec(name: str, files: dict[str, str], *, repo_id: str = "zoo-test/none",
          revision: str = "0" * 40, bundled: str = "") -> zoo.PretrainedSpec:
    return zoo.PretrainedSpec(name=name, variant="toy", config={}, repo_id=repo_id,
                              revision=revision, files=files, license="apache-2.0",
                              dataset="stripes", bundled=bundled)


# -- push and load ---------------------------------------------------------------------------------
def test_push_then_load_gives_identical_parameters(toy_manager, hub) -> None:
    repo, model = hub.repo(), _model(3)
    sha = zoo.push(model, repo, card=CARD, **{"endpoint": hub.kw["endpoint"]})
    assert len(sha) == 40 and sha.changed and sha == hub.server.head(repo)
    files = hub.server.files(repo)
    assert {"model.safetensors", "config.json", "README.md"} <= set(files)
    front, body = cards.parse_card(files["README.md"].decode())
    assert front["library_name"] == "zoo" and "toy" in front["tags"]
    assert cards.card_metrics(front) == {"reconstruction_mse": 0.0125}
    assert hashlib_sha256(files["model.safetensors"]) in body  # the card names the weights' hash
    for ref in (f"hf-hub:{repo}", f"hf-hub:{repo}@{sha}"):
        loaded = zoo.load(ref, **hub.kw)
        assert loaded.config == model.config and _weights(loaded) == _weights(model)


def hashlib_sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_pinned_older_revision_still_loads_after_a_new_push(toy_manager, hub) -> None:
    repo = hub.repo()
    old, new = _model(1), _model(2)
    sha_old = zoo.push(old, repo, card=CARD, **{"endpoint": hub.kw["endpoint"]})
    sha_new = zoo.push(new, repo, card=CARD, **{"endpoint": hub.kw["endpoint"]})
    assert sha_old != sha_new
    assert _weights(zoo.load(f"hf-hub:{repo}@{sha_old}", **hub.kw)) == _weights(old)
    assert _weights(zoo.load(f"hf-hub:{repo}", **hub.kw)) == _weights(new)
    assert _weights(zoo.load(f"hf-hub:{repo}", revision=sha_old, **hub.kw)) == _weights(old)


def test_unchanged_repush_makes_no_new_commit(toy_manager, hub, tmp_path) -> None:
    repo, model = hub.repo(), _model(4)
    endpoint = hub.kw["endpoint"]
    first = zoo.push(model, repo, card=CARD, endpoint=endpoint)
    commits = hub.server.commit_count(repo)
    again = zoo.push(model, repo, card=CARD, endpoint=endpoint)
    assert again == first and not again.changed
    saved = zoo.save(model, tmp_path / "m", card={**CARD, "repo_id": repo})
    assert zoo.push(saved, repo, endpoint=endpoint) == first  # its own README.md, same bytes
    assert hub.server.commit_count(repo) == commits
    changed = zoo.push(model, repo, card={**CARD, "metrics": {"reconstruction_mse": 0.5}},
                       endpoint=endpoint)
    assert changed.changed and changed != first and hub.server.commit_count(repo) == commits + 1


def test_push_to_a_new_branch_and_with_create_pr_leaves_main_unchanged(toy_manager, hub) -> None:
    repo, endpoint = hub.repo(), hub.kw["endpoint"]
    main_sha = zoo.push(_model(1), repo, card=CARD, endpoint=endpoint)
    pr = zoo.push(_model(2), repo, card=CARD, endpoint=endpoint, create_pr=True)
    assert pr.pr_revision == "refs/pr/1" and pr.pr_url.endswith("/discussions/1")
    assert len(pr) == 40 and pr != main_sha
    assert hub.server.head(repo) == main_sha  # main untouched
    assert _weights(zoo.load(f"hf-hub:{repo}@refs/pr/1", **hub.kw)) == _weights(_model(2))
    assert _weights(zoo.load(f"hf-hub:{repo}", **hub.kw)) == _weights(_model(1))
    dev = zoo.push(_model(5), repo, card=CARD, endpoint=endpoint, revision="dev")
    assert hub.server.head(repo, "dev") == dev and hub.server.head(repo) == main_sha


def test_push_a_run_directory_pushes_best_with_the_training_command(toy_manager, hub,
                                                                    tmp_path) -> None:
    run = tmp_path / "run"
    zoo.save(_model(6), run / "best")
    identity = {"variant": "toy", "model_config": {"features": 4, "scale": 2.0},
                "train_config": {"dataset": "stripes", "epochs": 3, "seed": 7}}
    (run / "run.json").write_text(json.dumps(identity))
    repo = hub.repo()
    zoo.push(run, repo, card=CARD, endpoint=hub.kw["endpoint"])
    readme = hub.server.files(repo)["README.md"].decode()
    assert "zoo train toy --dataset stripes epochs=3 seed=7 scale=2.0 --out RUN" in readme
    assert "Seed: 7." in readme


def test_push_refuses_a_model_without_card_or_metrics(toy_manager, hub, tmp_path) -> None:
    repo, endpoint = hub.repo(), hub.kw["endpoint"]
    with pytest.raises(cards.CardError, match=r"no model card.*zoo eval .*--output eval\.json"):
        zoo.push(_model(0), repo, endpoint=endpoint)
    with pytest.raises(cards.CardError, match="has no metrics"):
        zoo.push(_model(0), repo, endpoint=endpoint, card={"dataset": "stripes"})
    with pytest.raises(cards.CardError, match="not finite numbers: reconstruction_mse"):
        zoo.push(_model(0), repo, endpoint=endpoint,
                 card={**CARD, "metrics": {"reconstruction_mse": float("nan")}})
    saved = zoo.save(_model(0), tmp_path / "m")
    (saved / "README.md").write_text("---\nlicense: mit\n---\n# a card without numbers\n")
    with pytest.raises(cards.CardError, match="has no metrics"):
        zoo.push(saved, repo, endpoint=endpoint)
    assert repo not in hub.server.repos  # refused before anything was created


# -- errors ----------------------------------------------------------------------------------------
def test_missing_repo_revision_file_and_bad_token_are_clear_errors(toy_manager, hub) -> None:
    with pytest.raises(HubError, match=r"repository 'zoo-test/absent' not found.*HF_TOKEN"):
        zoo.load("hf-hub:zoo-test/absent", **hub.kw)
    repo = hub.repo()
    zoo.push(_model(0), repo, card=CARD, endpoint=hub.kw["endpoint"])
    with pytest.raises(HubError, match=r"revision 'nope' does not exist"):
        zoo.load(f"hf-hub:{repo}@nope", **hub.kw)
    with pytest.raises(HubError, match="rejected the token"):
        zoo.load(f"hf-hub:{repo}", token="hf_wrong", **hub.kw)
    with pytest.raises(HubError, match="rejected the token"):
        zoo.push(_model(1), repo, card=CARD, token="hf_wrong", endpoint=hub.kw["endpoint"])
    bare = hub.repo()
    hub.server.create_repo(bare)
    hub.server.commit(bare, "main", "only a card", {"README.md": b"# nothing else\n"})
    with pytest.raises(HubError, match=r"has no model\.safetensors, which zoo needs"):
        zoo.load(f"hf-hub:{bare}", **hub.kw)
    with pytest.raises(HubError, match="not a Hub reference"):
        zoo.load("hf-hub:not-a-repo-id", **hub.kw)


def test_unreachable_hub_says_how_to_go_offline(toy_manager, hub, monkeypatch) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(HubError, match=r"cannot be reached.*zoo download.*HF_HUB_OFFLINE=1"):
        zoo.load("hf-hub:zoo-test/anything", endpoint=dead, cache_dir=hub.kw["cache_dir"])
    with pytest.raises(HubError, match=r"not in the HF cache.*offline.*zoo download"):
        zoo.load("hf-hub:zoo-test/anything", local_files_only=True, **hub.kw)


def test_variant_plugin_missing_names_the_distribution(manager, hub) -> None:
    manager.register(ToyPlugin("toy"), name="toy-plugin", distribution="zoo-toy-dist")
    repo = hub.repo()
    zoo.push(_model(0), repo, card=CARD, endpoint=hub.kw["endpoint"])
    with use_manager(PluginManager(strict=True)), pytest.raises(
        zoo.ZooError, match=rf"Hub model 'hf-hub:{repo}' needs variant 'toy'.*pip install "
                            "zoo-toy-dist"):
        zoo.load(f"hf-hub:{repo}", **hub.kw)


# -- the cache, offline ----------------------------------------------------------------------------
def test_offline_loading_from_the_cache_after_download(toy_manager, hub, monkeypatch) -> None:
    repo, model = hub.repo(), _model(8)
    zoo.push(model, repo, card=CARD, endpoint=hub.kw["endpoint"])
    snapshot = zoo.download(f"hf-hub:{repo}", **hub.kw)
    assert sorted(os.listdir(snapshot)) == ["README.md", "config.json", "model.safetensors"]
    assert Path(hub.kw["cache_dir"]) in snapshot.parents
    served = len(hub.server.requests)
    loaded = zoo.load(f"hf-hub:{repo}", local_files_only=True, **hub.kw)
    assert _weights(loaded) == _weights(model) and loaded.zoo_source == "HF cache"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert _weights(zoo.load(f"hf-hub:{repo}", **hub.kw)) == _weights(model)
    assert len(hub.server.requests) == served  # not one request while offline
    monkeypatch.delenv("HF_HUB_OFFLINE")
    dead = f"http://127.0.0.1:{_closed_port()}"  # unreachable Hub: falls back to the cache
    fallback = zoo.load(f"hf-hub:{repo}", endpoint=dead, cache_dir=hub.kw["cache_dir"])
    assert _weights(fallback) == _weights(model) and fallback.zoo_source == "HF cache"


def test_pretrained_name_resolves_through_cache_and_hub_with_hash_checks(hub) -> None:
    mgr = PluginManager(strict=True)
    mgr.register(ToyPlugin("toy"), name="toy-plugin")
    with use_manager(mgr):
        repo, model = hub.repo(), _model(9)
        sha = zoo.push(model, repo, card=CARD, endpoint=hub.kw["endpoint"])
        files = {n: hashlib_sha256(b) for n, b in hub.server.files(repo, sha).items()
                 if n in ("model.safetensors", "config.json")}
        mgr.register(PretrainedPlugin(_spec("toy-hub", files, repo_id=repo, revision=sha)),
                     name="toy-pretrained")
        with pytest.raises(HubError, match="not in the HF cache"):
            zoo.load("toy-hub", local_files_only=True, **hub.kw)
        first = zoo.load("toy-hub", **hub.kw)  # from the Hub into the cache
        assert first.zoo_source == "Hub" and _weights(first) == _weights(model)
        assert zoo.load("toy-hub", local_files_only=True, **hub.kw).zoo_source == "HF cache"

        blob = Path(os.path.realpath(zoo.download("toy-hub", **hub.kw) / "model.safetensors"))
        data = bytearray(blob.read_bytes())
        data[-1] ^= 0xFF
        blob.write_bytes(bytes(data))
        bad = sha256_file(blob)
        with pytest.raises(HashMismatchError) as info:
            zoo.load("toy-hub", **hub.kw)
        msg = str(info.value)
        assert "model.safetensors" in msg and files["model.safetensors"] in msg and bad in msg
        assert "was not used" in msg and "zoo download toy-hub --force" in msg
        zoo.download("toy-hub", force=True, **hub.kw)
        assert _weights(zoo.load("toy-hub", **hub.kw)) == _weights(model)

        newer = zoo.push(_model(19), repo, card=CARD, endpoint=hub.kw["endpoint"], private=True)
        assert not hub.server.repos[repo].private  # visibility is only set on creation
        loaded = zoo.load("toy-hub", revision=newer, **hub.kw)  # another revision of the entry
        assert loaded.zoo_source == "Hub" and _weights(loaded) == _weights(_model(19))


def test_explicit_local_directory_is_hash_checked_too(toy_manager, tmp_path) -> None:
    from zoo.hub import resolve_pretrained

    saved = zoo.save(_model(13), tmp_path / "weights")
    files = {n: sha256_file(saved / n) for n in ("model.safetensors", "config.json")}
    resolved = resolve_pretrained(_spec("toy-local", files), local_dir=saved)
    assert resolved.source == "local directory" and resolved.directory == saved
    with pytest.raises(HashMismatchError, match=r"config\.json from the local directory"):
        resolve_pretrained(_spec("toy-local", {**files, "config.json": "0" * 64}),
                           local_dir=saved)
    assert _weights(zoo.load(saved)) == _weights(_model(13))  # zoo.load(PATH): the path wins


def test_importing_zoo_does_not_import_huggingface_hub() -> None:
    import subprocess
    import sys

    code = "import sys, zoo; print(sorted(m for m in sys.modules if 'huggingface' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_tampered_hub_reference_in_the_cache_is_caught(toy_manager, hub) -> None:
    repo = hub.repo()
    zoo.push(_model(10), repo, card=CARD, endpoint=hub.kw["endpoint"])
    snapshot = zoo.download(f"hf-hub:{repo}", **hub.kw)
    Path(os.path.realpath(snapshot / "config.json")).write_text("{}")
    with pytest.raises(HashMismatchError, match=r"config\.json in the HF cache.*git blob sha1"):
        zoo.load(f"hf-hub:{repo}", local_files_only=True, **hub.kw)


# -- the bundled copy ------------------------------------------------------------------------------
def _bundle(tmp_path: Path, package: str, model: Any) -> dict[str, str]:
    pkg = tmp_path / "site" / package
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    out = zoo.save(model, pkg / "pretrained" / "toy-bundled")
    return {n: sha256_file(out / n) for n in ("model.safetensors", "config.json")}


def test_bundled_copy_loads_with_no_server_at_all(toy_manager, tmp_path, monkeypatch) -> None:
    model = _model(11)
    files = _bundle(tmp_path, "zoo_toy_bundle_a", model)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    dead = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", dead)
    spec = _spec("toy-bundled", files, bundled="zoo_toy_bundle_a:pretrained/toy-bundled")
    toy_manager.register(PretrainedPlugin(spec), name="toy-pretrained")
    loaded = zoo.load("toy-bundled", cache_dir=tmp_path / "empty-cache")
    assert loaded.zoo_source == "bundled" and _weights(loaded) == _weights(model)


def test_bundled_copy_with_a_wrong_hash_is_refused(toy_manager, tmp_path, monkeypatch) -> None:
    files = _bundle(tmp_path, "zoo_toy_bundle_b", _model(12))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    wrong = {**files, "model.safetensors": "f" * 64}
    spec = _spec("toy-bundled", wrong, bundled="zoo_toy_bundle_b:pretrained/toy-bundled")
    toy_manager.register(PretrainedPlugin(spec), name="toy-pretrained")
    with pytest.raises(HashMismatchError, match=r"model\.safetensors from the copy bundled in "
                                                r"zoo_toy_bundle_b.*f{64} was expected"):
        zoo.load("toy-bundled", cache_dir=tmp_path / "empty-cache")


def test_missing_bundle_offline_and_bad_bundled_values(toy_manager, tmp_path) -> None:
    spec = _spec("toy-nowhere", {"model.safetensors": "a" * 64, "config.json": "b" * 64},
                 bundled="zoo_no_such_package_xyz:pretrained/x")
    toy_manager.register(PretrainedPlugin(spec), name="toy-pretrained")
    with pytest.raises(HubError, match=r"zoo-test/none@0{40} is not in the HF cache"):
        zoo.load("toy-nowhere", local_files_only=True, cache_dir=tmp_path / "c")
    for bad in ("no-colon", "pkg:../escape", "pkg:"):
        with pytest.raises(zoo.PluginError, match="bundled must look like"):
            _spec("x", spec.files, bundled=bad).validate()


# -- the command line ------------------------------------------------------------------------------
def test_cli_push_with_eval_then_download_and_load_offline(toy_manager, hub, tmp_path, capsys,
                                                           monkeypatch) -> None:
    model = _model(21)
    saved = zoo.save(model, tmp_path / "m")
    (tmp_path / "eval.json").write_text(json.dumps(
        {"variant": "toy", "dataset": "stripes", "split": "test", "examples": 64,
         "reconstruction_mse": 0.02, "kl_per_dim": [0.1]}))
    (tmp_path / "card.yaml").write_text("description: A toy.\nlimitations: Four numbers.\n")
    repo = hub.repo()
    args = ["push", str(saved), repo, "--eval", str(tmp_path / "eval.json"),
            "--card-template", str(tmp_path / "card.yaml")]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    sha = out[-1]
    assert out[0] == f"pushed to {repo}@main" and sha == hub.server.head(repo)
    assert f'zoo.load("hf-hub:{repo}@{sha}")' in out[1]
    readme = hub.server.files(repo)["README.md"].decode()
    assert "A toy." in readme and "Four numbers." in readme
    assert f"zoo eval {saved} --dataset stripes" in readme

    assert main(args) == 0  # again: nothing changed
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("unchanged:") and out[-1] == sha

    assert main(["download", f"hf-hub:{repo}@{sha}", "--cache-dir", hub.kw["cache_dir"]]) == 0
    snapshot = capsys.readouterr().out.strip().splitlines()[-1]
    assert sorted(os.listdir(snapshot)) == ["README.md", "config.json", "model.safetensors"]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = zoo.load(f"hf-hub:{repo}@{sha}", cache_dir=hub.kw["cache_dir"])
    assert _weights(loaded) == _weights(model)


def test_cli_push_without_metrics_fails_clearly(toy_manager, hub, tmp_path, capsys) -> None:
    saved = zoo.save(_model(0), tmp_path / "m")
    assert main(["push", str(saved), hub.repo()]) == 2
    err = capsys.readouterr().err
    assert "no model card" in err and "--output eval.json" in err


def test_cli_download_pretrained_and_info(toy_manager, hub, capsys) -> None:
    repo = hub.repo()
    sha = zoo.push(_model(22), repo, endpoint=hub.kw["endpoint"],
                   card={"metrics": {"reconstruction_mse": 0.1}, "dataset": "stripes"})
    files = {n: sha256_file(p) for n, p in fetch_hub_ref(
        f"hf-hub:{repo}@{sha}", **hub.kw).files.items() if n != "README.md"}
    spec = _spec("toy-cli", files, repo_id=repo, revision=sha, bundled="nowhere:pretrained/x")
    toy_manager.register(PretrainedPlugin(spec), name="toy-pretrained")
    assert main(["download", "toy-cli", "--cache-dir", hub.kw["cache_dir"]]) == 0
    assert capsys.readouterr().out.strip().endswith(sha)
    assert main(["info", "toy-cli", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["bundled"] == "nowhere:pretrained/x" and info["revision"] == sha
