"""Codebook usage over a split, at once and accumulated batch by batch."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from zoo.errors import InputError
from zoo.metrics import jsonable
from zoo.metrics.vq_health import CodeUsage, codebook_usage


@settings(max_examples=15)  # each new shape compiles zoo.vq.code_counts once
@given(k=st.integers(1, 40), data=st.data())
def test_usage_matches_bincount_and_batches_agree(k, data) -> None:
    batches = data.draw(st.lists(arrays(np.int32, st.tuples(st.integers(0, 20), st.integers(1, 3)),
                                        elements=st.integers(0, k - 1)), min_size=1, max_size=4))
    flat = np.concatenate([b.reshape(-1) for b in batches])
    whole = codebook_usage(flat, k)
    np.testing.assert_array_equal(whole["counts"], np.bincount(flat, minlength=k))
    assert whole["total"] == flat.size
    assert whole["dead_codes"] == [i for i in range(k) if i not in set(flat.tolist())]
    assert whole["num_dead"] == len(whole["dead_codes"])
    assert whole["fraction_used"] == pytest.approx((k - whole["num_dead"]) / k)
    if flat.size:
        assert 1.0 - 1e-4 <= whole["perplexity"] <= (k - whole["num_dead"]) * (1 + 1e-5)
    usage = CodeUsage(k)
    for b in batches:
        usage.update(b)
    acc = usage.result()
    np.testing.assert_array_equal(acc["counts"], whole["counts"])
    assert acc["perplexity"] == pytest.approx(whole["perplexity"], rel=1e-6)
    assert acc["dead_codes"] == whole["dead_codes"]


def test_perplexity_extremes() -> None:
    uniform = codebook_usage(np.tile(np.arange(16), 10), 16)
    assert uniform["perplexity"] == pytest.approx(16.0, rel=1e-5) and uniform["num_dead"] == 0
    collapsed = codebook_usage(np.full((8, 7, 7), 3), 512)
    assert collapsed["perplexity"] == pytest.approx(1.0)
    assert collapsed["num_dead"] == 511 and 3 not in collapsed["dead_codes"]
    assert collapsed["fraction_used"] == pytest.approx(1 / 512)


def test_result_is_json_ready() -> None:
    text = json.dumps(jsonable(CodeUsage(4).update(np.array([0, 1, 1])).result()))
    assert json.loads(text)["dead_codes"] == [2, 3]


def test_bad_indices_say_what_to_pass() -> None:
    with pytest.raises(InputError, match=r"\[0, 8\).*model\.codebook_size"):
        codebook_usage(np.array([0, 8]), 8)
    with pytest.raises(InputError, match="integers"):
        CodeUsage(8).update(np.array([0.5]))
    with pytest.raises(InputError, match="positive integer"):
        CodeUsage(0)
