"""MIG, DCI and SAP on codes whose disentanglement is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import mutual_info_score

from zoo.errors import InputError
from zoo.metrics import disentanglement as dm
from zoo.metrics import jsonable

N = 2000
SIZES = (3, 5, 8)  # values per ground-truth factor


def make_factors(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, s, n) for s in SIZES], axis=1)


def aligned_codes(factors: np.ndarray, seed: int, noise_dims: int = 3) -> np.ndarray:
    """Factor k copied (scaled, slightly noisy) into latent k; then pure-noise latents."""
    rng = np.random.default_rng(seed + 1)
    signal = factors / np.array(SIZES) + 0.01 * rng.normal(size=factors.shape)
    return np.concatenate([signal, rng.normal(size=(len(factors), noise_dims))], axis=1)


def mixed_codes(factors: np.ndarray, seed: int) -> np.ndarray:
    """The aligned code's factor part rotated by a dense rotation: every latent mixes every
    factor, which is exactly the entanglement the metrics should penalise."""
    codes = aligned_codes(factors, seed, noise_dims=0)
    codes = (codes - codes.mean(0)) / codes.std(0)
    rot = np.array([[0.6, 0.64, 0.48], [-0.8, 0.48, 0.36], [0.0, -0.6, 0.8]])  # orthogonal
    return codes @ rot


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    f_train, f_test = make_factors(N, 0), make_factors(N // 2, 1)
    rng = np.random.default_rng(2)
    return {
        "f_train": f_train,
        "f_test": f_test,
        "aligned_train": aligned_codes(f_train, 0),
        "aligned_test": aligned_codes(f_test, 1),
        "mixed_train": mixed_codes(f_train, 0),
        "mixed_test": mixed_codes(f_test, 1),
        "random_train": rng.normal(size=(N, 6)),
        "random_test": rng.normal(size=(N // 2, 6)),
    }


# -- discretisation and information ------------------------------------------------------------


@given(codes=arrays(np.float64, st.tuples(st.integers(2, 50), st.integers(1, 4)),
                    elements=st.floats(-1e3, 1e3)),
       num_bins=st.integers(1, 30))
def test_discretize_bins_in_range_and_order_preserving(codes, num_bins) -> None:
    binned = dm.discretize(codes, num_bins)
    assert binned.shape == codes.shape and binned.dtype == np.int64
    assert binned.min() >= 0 and binned.max() < num_bins
    for d in range(codes.shape[1]):
        order = np.argsort(codes[:, d], kind="stable")
        assert np.all(np.diff(binned[order, d]) >= 0)  # larger value, same or later bin


def test_discretize_spans_all_bins_and_handles_constant_columns() -> None:
    codes = np.stack([np.linspace(0, 1, 100), np.full(100, 3.0)], axis=1)
    binned = dm.discretize(codes, 20)
    assert set(binned[:, 0]) == set(range(20))
    assert len(set(binned[:, 1])) == 1


@given(x=arrays(np.int64, 60, elements=st.integers(0, 4)),
       y=arrays(np.int64, 60, elements=st.integers(0, 3)))
def test_mutual_info_bounded_by_entropies(x, y) -> None:
    m = dm.discrete_mutual_info(x[:, None], y[:, None])
    h = dm.discrete_entropy(np.stack([x, y], axis=1))
    assert m.shape == (1, 1)
    assert -1e-12 <= m[0, 0] <= min(h) + 1e-9
    np.testing.assert_allclose(dm.discrete_mutual_info(x[:, None], x[:, None])[0, 0], h[0])


def test_entropy_is_natural_log() -> None:
    np.testing.assert_allclose(dm.discrete_entropy(np.arange(8)[:, None] % 4), [np.log(4)])


# -- MIG ------------------------------------------------------------------------------------------


def test_mig_near_one_for_aligned_codes(data) -> None:
    result = dm.mig(data["aligned_train"], data["f_train"])
    assert result["mig"] > 0.9
    assert result["mutual_info"].shape == (6, 3) and result["skipped_factors"] == []
    assert result["note"] is None and all(g > 0.9 for g in result["per_factor"])


def test_mig_near_zero_for_random_codes(data) -> None:
    assert dm.mig(data["random_train"], data["f_train"])["mig"] < 0.05


def test_mig_penalises_mixed_codes(data) -> None:
    assert dm.mig(data["mixed_train"], data["f_train"])["mig"] < 0.5


@settings(max_examples=10)
@given(perm=st.permutations(range(6)))
def test_mig_invariant_to_latent_permutation(data, perm) -> None:
    codes, factors = data["aligned_train"][:500], data["f_train"][:500]
    base = dm.mig(codes, factors)
    permuted = dm.mig(codes[:, list(perm)], factors)
    assert permuted["mig"] == pytest.approx(base["mig"], abs=1e-12)
    np.testing.assert_allclose(permuted["mutual_info"], base["mutual_info"][list(perm)])


def test_mig_skips_constant_factor_without_nan(data) -> None:
    factors = data["f_train"].copy()
    factors[:, 1] = 7
    result = dm.mig(data["aligned_train"], factors)
    assert np.isfinite(result["mig"]) and result["mig"] > 0.9
    assert result["per_factor"][1] is None and result["skipped_factors"] == [1]
    assert "single value" in result["note"]
    assert jsonable(result)["per_factor"][1] is None


def test_mig_errors_say_what_to_do() -> None:
    with pytest.raises(InputError, match="at least 2 latent"):
        dm.mig(np.zeros((10, 1)), np.zeros((10, 1)))
    with pytest.raises(InputError, match="single value"):
        dm.mig(np.random.default_rng(0).normal(size=(10, 2)), np.zeros((10, 2)))
    with pytest.raises(InputError, match="NaN"):
        dm.mig(np.full((10, 2), np.nan), np.ones((10, 1)))
    with pytest.raises(InputError, match="one row per data point"):
        dm.mig(np.zeros((10, 2)), np.ones((9, 1)))
    with pytest.raises(InputError, match=r"\[:, None\]"):
        dm.mig(np.zeros((10, 2)), np.ones(10))


# -- DCI ------------------------------------------------------------------------------------------


@given(matrix=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                     elements=st.floats(0, 10)),
       data=st.data())
def test_disentanglement_and_completeness_in_unit_interval_and_permutation_invariant(
    matrix, data
) -> None:
    d_score, c_score = dm.disentanglement(matrix), dm.completeness(matrix)
    assert -1e-9 <= d_score <= 1 + 1e-9 and -1e-9 <= c_score <= 1 + 1e-9
    rows = data.draw(st.permutations(range(matrix.shape[0])))
    cols = data.draw(st.permutations(range(matrix.shape[1])))
    shuffled = matrix[list(rows)][:, list(cols)]
    assert dm.disentanglement(shuffled) == pytest.approx(d_score, abs=1e-9)
    assert dm.completeness(shuffled) == pytest.approx(c_score, abs=1e-9)


def test_disentanglement_extremes() -> None:
    assert dm.disentanglement(np.eye(4)) == pytest.approx(1.0)
    assert dm.completeness(np.eye(4)) == pytest.approx(1.0)
    assert dm.disentanglement(np.ones((4, 4))) == pytest.approx(0.0, abs=1e-9)
    assert dm.completeness(np.ones((4, 4))) == pytest.approx(0.0, abs=1e-9)
    # one code carries all factors: complete but not disentangled
    one_code = np.zeros((4, 4))
    one_code[0] = 1.0
    assert dm.completeness(one_code) == pytest.approx(1.0)
    assert dm.disentanglement(one_code) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("model", "n_estimators"), [("gbt", 10), ("random_forest", 20), ("lasso", None)]
)
def test_dci_high_for_aligned_low_for_mixed(data, model, n_estimators) -> None:
    kw = {"model": model, "n_estimators": n_estimators, "n_jobs": 2}
    aligned = dm.dci(data["aligned_train"][:1000], data["f_train"][:1000],
                     data["aligned_test"], data["f_test"], **kw)
    mixed = dm.dci(data["mixed_train"][:1000], data["f_train"][:1000],
                   data["mixed_test"], data["f_test"], **kw)
    assert aligned["disentanglement"] > 0.8 and aligned["completeness"] > 0.7
    assert aligned["informativeness_test"] > 0.95
    assert mixed["disentanglement"] < aligned["disentanglement"] - 0.3
    assert mixed["disentanglement"] < 0.5
    assert aligned["importance"].shape == (6, 3) and np.all(aligned["importance"] >= 0)


def test_dci_skips_constant_factor(data) -> None:
    factors = data["f_train"][:500].copy()
    factors[:, 0] = 1
    result = dm.dci(data["aligned_train"][:500], factors, data["aligned_test"], data["f_test"],
                    model="lasso")
    assert result["skipped_factors"] == [0] and result["accuracy_test"][0] is None
    assert np.all(result["importance"][:, 0] == 0) and "single value" in result["note"]
    assert all(np.isfinite(result[k]) for k in ("disentanglement", "completeness"))


def test_dci_unknown_model_lists_choices(data) -> None:
    with pytest.raises(InputError, match="gbt"):
        dm.dci(data["aligned_train"], data["f_train"], data["aligned_test"], data["f_test"],
               model="xgboost")


# -- SAP ------------------------------------------------------------------------------------------


def test_sap_high_for_aligned_low_for_random(data) -> None:
    aligned = dm.sap(data["aligned_train"][:1000], data["f_train"][:1000],
                     data["aligned_test"], data["f_test"], n_jobs=2)
    random = dm.sap(data["random_train"][:1000], data["f_train"][:1000],
                    data["random_test"], data["f_test"])
    # A 1-D linear classifier cannot carve out the middle classes of a many-valued factor, so
    # even a perfect code scores well below 1 on SAP (a property of the lib's definition).
    assert aligned["sap"] > 0.15 and random["sap"] < 0.03
    assert aligned["sap"] > 10 * random["sap"]
    assert aligned["score_matrix"].shape == (6, 3)
    # each factor is best predicted by its own latent
    np.testing.assert_array_equal(aligned["score_matrix"].argmax(axis=0), [0, 1, 2])


def test_sap_continuous_is_squared_correlation(data) -> None:
    aligned = dm.sap(data["aligned_train"], data["f_train"], continuous_factors=True)
    random = dm.sap(data["random_train"], data["f_train"], continuous_factors=True)
    assert aligned["sap"] > 0.95 and random["sap"] < 0.02
    codes, factors = data["aligned_train"], data["f_train"]
    r = np.corrcoef(codes[:, 0], factors[:, 0])[0, 1]
    assert aligned["score_matrix"][0, 0] == pytest.approx(r**2)


def test_sap_needs_test_split_for_discrete_factors(data) -> None:
    with pytest.raises(InputError, match="test split"):
        dm.sap(data["aligned_train"], data["f_train"])


def test_mi_uses_sklearn_definition() -> None:
    rng = np.random.default_rng(0)
    c, f = rng.integers(0, 4, (100, 2)), rng.integers(0, 3, (100, 2))
    m = dm.discrete_mutual_info(c, f)
    assert m[1, 0] == pytest.approx(mutual_info_score(f[:, 0], c[:, 1]))


def test_float_factor_values_are_classes(data) -> None:
    """dSprites' factors are floats (scale 0.5..1.0, orientation in radians): each distinct value
    is one class, and every metric gives what it gives for the integer ids."""
    ids_train, ids_test = data["f_train"][:600], data["f_test"][:300]
    values = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2])
    f_train, f_test = values[ids_train], values[ids_test]
    codes_train, codes_test = data["aligned_train"][:600], data["aligned_test"][:300]
    assert dm.mig(codes_train, f_train)["mig"] == pytest.approx(
        dm.mig(codes_train, ids_train)["mig"])
    kw = {"model": "gbt", "n_estimators": 5}
    by_value = dm.dci(codes_train, f_train, codes_test, f_test, **kw)
    by_id = dm.dci(codes_train, ids_train, codes_test, ids_test, **kw)
    assert by_value["disentanglement"] == pytest.approx(by_id["disentanglement"])
    assert dm.sap(codes_train, f_train, codes_test, f_test)["sap"] == pytest.approx(
        dm.sap(codes_train, ids_train, codes_test, ids_test)["sap"])
