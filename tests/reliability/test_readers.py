"""Reliability: the safetensors and config.json readers on hostile bytes (bounded hypothesis
fuzzing), config.json values of the wrong type, and models over the size budget. Every bad
input is a zoo error that names the file; nothing else escapes. ``ZOO_FUZZ_EXAMPLES`` sets the
examples per fuzzer (default 150; RELIABILITY.md records a larger run)."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo.checkpoint import read_safetensors
from zoo.errors import CorruptWeightsError, ZooError
from zoo.serialization import read_meta

EXAMPLES = int(os.environ.get("ZOO_FUZZ_EXAMPLES", "0")) or 150
#: bounded and reproducible; the fixtures are read-only data, not per-example state
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
#: hypothesis prints the (large) file bytes it was given when a case fails; that is wanted
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("good")
    zoo.save(zoo.create("beta-vae", hidden_dims=(8,), latent_dim=2), directory)
    return {name: (directory / name).read_bytes()
            for name in ("model.safetensors", "config.json")}


def _mutations() -> st.SearchStrategy:
    """(kind, position fraction, byte, length fraction): flip, cut, insert or header rewrite."""
    return st.tuples(st.sampled_from(["flip", "cut", "insert", "header"]),
                     st.floats(0, 1), st.integers(0, 255), st.floats(0, 1))


def _mutate(data: bytes, mutation: tuple) -> bytes:
    kind, where, byte, length = mutation
    i = min(int(where * len(data)), len(data) - 1)
    if kind == "flip":
        return data[:i] + bytes([data[i] ^ (byte or 1)]) + data[i + 1:]
    if kind == "cut":
        return data[:i]
    if kind == "insert":
        return data[:i] + bytes([byte]) * (1 + int(length * 64)) + data[i:]
    # a header length claiming anything from 0 to 2^64 - 1 bytes
    return struct.pack("<Q", min(int(length * 2.0**64), 2**64 - 1)) + data[8:]


@FUZZ
@given(mutation=_mutations())
def test_fuzzed_safetensors_never_escape_as_another_error(good_files, tmp_path_factory,
                                                          mutation) -> None:
    path = tmp_path_factory.mktemp("st") / "model.safetensors"
    path.write_bytes(_mutate(good_files["model.safetensors"], mutation))
    try:
        read_safetensors(path)
    except CorruptWeightsError as exc:
        assert str(path) in str(exc)


@FUZZ
@given(mutation=_mutations())
def test_fuzzed_config_json_never_escapes_as_another_error(good_files, tmp_path_factory,
                                                           mutation) -> None:
    directory = tmp_path_factory.mktemp("cfg")
    (directory / "config.json").write_bytes(_mutate(good_files["config.json"], mutation))
    (directory / "model.safetensors").write_bytes(good_files["model.safetensors"])
    try:
        zoo.load(directory)
    except ZooError as exc:
        assert "config.json" in str(exc) or "variant" in str(exc) or "config" in str(exc)


@pytest.mark.parametrize("change, message", [
    ({"variant": None}, "'variant' must be a variant name"),
    ({"variant": ["beta-vae"]}, "'variant' must be a variant name"),
    ({"config": "latent_dim=2"}, "'config' must be an object"),
    ({"format_version": "1"}, "format_version must be a positive integer, got '1'"),
    ({"format_version": True}, "format_version must be a positive integer"),
    ({"format_version": 99}, "Upgrade zoo"),
])
def test_config_json_values_of_the_wrong_type(good_files, tmp_path, change, message) -> None:
    meta = {**json.loads(good_files["config.json"]), **change}
    (tmp_path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ZooError, match=message):
        read_meta(tmp_path)


def test_deep_or_huge_config_json(tmp_path) -> None:
    (tmp_path / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CorruptWeightsError, match="nested too deeply"):
        read_meta(tmp_path)
    (tmp_path / "config.json").write_text(" " * (2 << 20) + "{}")
    with pytest.raises(CorruptWeightsError, match="a few kB"):
        read_meta(tmp_path)


def test_absurd_sizes_are_refused_before_allocation(world, monkeypatch) -> None:
    with pytest.raises(zoo.ConfigError, match=r"126\.7 GiB .*quantizer\.codebook "
                                              r"\(1000000000, 16\).*ZOO_MAX_MODEL_BYTES"):
        zoo.create("vqvae", num_embeddings=10**9)
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", "1K")
    with pytest.raises(zoo.ConfigError, match=r"over the size budget of 0\.0 GiB"):
        zoo.create("beta-vae")
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", "64M")
    assert zoo.create("beta-vae", hidden_dims=(8,), latent_dim=2) is not None
    monkeypatch.setenv("ZOO_MAX_MODEL_BYTES", "lots")
    with pytest.raises(zoo.ConfigError, match="ZOO_MAX_MODEL_BYTES must be a positive"):
        zoo.create("beta-vae")


def test_a_saved_directory_is_what_the_fuzzers_start_from(good_files, tmp_path) -> None:
    for name, data in good_files.items():
        (tmp_path / name).write_bytes(data)
    assert zoo.load(Path(tmp_path)).config.latent_dim == 2


def test_a_card_with_a_nan_metric_is_named_as_such(world, tmp_path) -> None:
    from zoo.cards import CardError, card_metrics, parse_card

    directory = tmp_path / "m"
    zoo.save(zoo.create("beta-vae", hidden_dims=(8,), latent_dim=2), directory,
             card={"metrics": {"reconstruction_mse": 0.01}, "dataset": "stripes"})
    card = directory / "README.md"
    card.write_text(card.read_text().replace("value: 0.01", "value: .nan"))
    front, _ = parse_card(card.read_text())
    assert card_metrics(front) == {} and "reconstruction_mse" in card_metrics(front, finite=False)
    with pytest.raises(CardError, match="not finite numbers: reconstruction_mse"):
        zoo.push(directory, "org/never-reached", endpoint="http://127.0.0.1:9")  # refused first
