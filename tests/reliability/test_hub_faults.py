"""Reliability: a Hub that hangs, fails, cuts or mis-sizes its answers never hangs zoo, never
leaves a bad file in the cache, and falls back to the cache when it holds the revision.

The server is tests/hub_server.py on 127.0.0.1 with its fault switches; every call gets a
temporary HF cache. ``ZOO_HUB_TIMEOUT`` and huggingface_hub's own timeouts are set to 1 s, so
each hang costs about a second; a call still running after :data:`BOUND_S` counts as a hang.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import jax.numpy as jnp
import pytest

import zoo
from zoo.hub import HubError

from ..hub_server import running_hub

BOUND_S = 60.0
CARD = {"metrics": {"reconstruction_mse": 0.0125}, "dataset": "stripes", "split": "test",
        "eval_command": "zoo eval RUN/best --dataset stripes", "license": "apache-2.0"}


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from huggingface_hub import constants

    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "1")
    monkeypatch.setattr(constants, "HF_HUB_ETAG_TIMEOUT", 1)
    monkeypatch.setattr(constants, "HF_HUB_DOWNLOAD_TIMEOUT", 1)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with running_hub() as server:
        monkeypatch.setenv("HF_TOKEN", server.token)
        server.kw = {"endpoint": server.url, "cache_dir": str(tmp_path / "hf-cache")}
        yield server


def _bounded(call: Any) -> Any:
    """``call()``'s result or exception; fails the test if it is still running after
    :data:`BOUND_S` (a hang)."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = call()
        except BaseException as exc:  # handed to the test
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND_S)
    assert not thread.is_alive(), f"the call hung (still running after {BOUND_S:.0f} s)"
    if "error" in out:
        raise out["error"]
    return out["value"]


def _published(toy_manager: Any, hub: Any, name: str = "zoo-test/m") -> Any:
    model = zoo.create("toy", seed=1)
    model.stat.set_value(jnp.full((4,), 7.0))
    zoo.push(model, name, card=CARD, endpoint=hub.url)
    return model


def test_a_hanging_hub_times_out_instead_of_hanging(toy_manager, hub) -> None:
    _published(toy_manager, hub)
    hub.faults.hang = True
    with pytest.raises(HubError, match=r"cannot be reached .*Timeout.*HF_HUB_OFFLINE"):
        _bounded(lambda: zoo.load("hf-hub:zoo-test/m", **hub.kw))  # empty cache
    with pytest.raises(HubError, match=r"cannot be reached .*Timeout"):
        _bounded(lambda: zoo.push(zoo.create("toy"), "zoo-test/m2", card=CARD,
                                  endpoint=hub.url))


def test_a_hanging_hub_falls_back_to_the_cache(toy_manager, hub) -> None:
    model = _published(toy_manager, hub)
    zoo.download("hf-hub:zoo-test/m", **hub.kw)
    hub.faults.hang = True
    loaded = _bounded(lambda: zoo.load("hf-hub:zoo-test/m", **hub.kw))
    assert loaded.zoo_source == "HF cache"
    assert float(loaded.stat.get_value()[0]) == float(model.stat.get_value()[0])


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_hub_errors(toy_manager, hub, status) -> None:
    _published(toy_manager, hub)
    hub.faults.status = status
    with pytest.raises(HubError, match=rf"answered {status}|cannot be reached"):
        _bounded(lambda: zoo.load("hf-hub:zoo-test/m", **hub.kw))


@pytest.mark.parametrize("fault", [{"cut_after": 100}, {"extra_length": 10}])
def test_a_cut_or_mis_sized_download_leaves_no_bad_file(toy_manager, hub, fault) -> None:
    model = _published(toy_manager, hub)
    for key, value in fault.items():
        setattr(hub.faults, key, value)
    with pytest.raises(HubError, match=r"download .*incomplete|cannot be reached|answered"):
        _bounded(lambda: zoo.load("hf-hub:zoo-test/m", **hub.kw))
    hub.faults.clear()
    loaded = _bounded(lambda: zoo.load("hf-hub:zoo-test/m", **hub.kw))  # whole on retry
    assert float(loaded.stat.get_value()[0]) == float(model.stat.get_value()[0])


def test_the_timeout_setting_is_checked(monkeypatch) -> None:
    from zoo.hub.client import hub_timeout

    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "soon")
    with pytest.raises(zoo.ConfigError, match="ZOO_HUB_TIMEOUT must be a positive number"):
        hub_timeout()
    monkeypatch.setenv("ZOO_HUB_TIMEOUT", "2.5")
    assert hub_timeout() == 2.5


# -- the hash check of cached Hub files, symlink or not -----------------------------------------
def _unlinked(path: Path, data: bytes | None = None) -> None:
    """Replace the snapshot symlink ``path`` by a regular file: its content (as ``cp -L``
    would) or ``data``."""
    content = path.read_bytes() if data is None else data
    path.unlink()
    path.write_bytes(content)


def test_a_cache_without_symlinks_is_still_hash_checked(toy_manager, hub) -> None:
    from zoo.hub import HashMismatchError

    model = _published(toy_manager, hub)
    snapshot = zoo.download("hf-hub:zoo-test/m", **hub.kw)
    weights = snapshot / "model.safetensors"
    original = weights.read_bytes()
    for name in ("model.safetensors", "config.json"):  # a cache copied with cp -L
        _unlinked(snapshot / name)
    offline = {**hub.kw, "local_files_only": True}
    loaded = zoo.load("hf-hub:zoo-test/m", **offline)  # checked against zoo's record
    assert float(loaded.stat.get_value()[0]) == float(model.stat.get_value()[0])
    tampered = bytearray(original)
    tampered[-1] ^= 0x01
    _unlinked(weights, bytes(tampered))
    with pytest.raises(HashMismatchError, match=r"has sha256 .* but the Hub recorded"):
        zoo.load("hf-hub:zoo-test/m", **offline)
    with pytest.raises(HashMismatchError, match="but the Hub recorded"):
        _bounded(lambda: zoo.load("hf-hub:zoo-test/m", **hub.kw))  # online: the same file
    for record in Path(hub.kw["cache_dir"]).rglob("zoo-hashes"):
        for f in record.iterdir():
            f.unlink()
    _unlinked(weights, original)
    with pytest.raises(HashMismatchError, match="cannot be checked"):
        zoo.load("hf-hub:zoo-test/m", **offline)


def test_the_token_never_appears_in_errors_logs_or_files(toy_manager, hub, tmp_path, caplog,
                                                         capsys, monkeypatch) -> None:
    """Every failure mode above, and a wrong token, with the token passed explicitly: it shows
    in no error message, log record, output or written file."""
    import logging

    caplog.set_level(logging.DEBUG)
    token = hub.token
    _published(toy_manager, hub)
    seen: list[str] = []
    model = zoo.create("toy")
    attempts = [
        lambda: zoo.load("hf-hub:zoo-test/m", token=token, **hub.kw),
        lambda: zoo.push(model, "zoo-test/t", card=CARD, endpoint=hub.url, token=token),
        lambda: zoo.load("hf-hub:zoo-test/nope", token=token, **hub.kw),
        lambda: zoo.load("hf-hub:zoo-test/m", token="hf_wrong_" + token, **hub.kw),
    ]
    for fault in ({"status": 500}, {"hang": True}, {"cut_after": 50}, {}):
        hub.faults.clear()
        for key, value in fault.items():
            setattr(hub.faults, key, value)
        for attempt in attempts:
            try:
                _bounded(attempt)
            except zoo.ZooError as exc:
                seen.append(f"{exc!r} {exc.__cause__!r} {exc.__context__!r}")
    hub.faults.clear()
    zoo.save(model, tmp_path / "saved", card=CARD)
    out = capsys.readouterr()
    assert len(seen) >= 8
    for text in [*seen, caplog.text, out.out, out.err]:
        assert token not in text
    for path in [*Path(hub.kw["cache_dir"]).rglob("*"), *(tmp_path / "saved").rglob("*")]:
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path


def test_concurrent_loads_into_one_empty_cache(world, hub) -> None:
    """Several processes load one Hub model into one empty HF cache at the same instant."""
    import subprocess
    import sys
    import time

    child = Path(__file__).with_name("child.py")
    zoo.push(zoo.create("beta-vae", hidden_dims=(8,), latent_dim=3), "zoo-test/c",
             card=CARD, endpoint=hub.url)
    start = time.time() + 4.0
    procs = [subprocess.Popen([sys.executable, str(child), "load", "hf-hub:zoo-test/c",
                               hub.url, hub.kw["cache_dir"], str(start)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [out.strip() for out, _ in results] == ["ok 3"] * 4, [err for _, err in results]
