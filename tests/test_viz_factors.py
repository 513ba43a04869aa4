"""Traversals labelled by ground-truth factors: the pure labelling and ordering on hand-made
mutual-information matrices, then the pictures of a tiny beta-VAE on a small dataset with
factors (and the unchanged traversal of one without)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import viz
from zoo.data import ArrayDataset
from zoo.errors import InputError
from zoo.metrics.mig import mig
from zoo.metrics.points import disentanglement_points
from zoo.plugins import PluginManager, use_manager
from zoo.viz.pictures import model_pictures, traversal_picture

NAMES = ("shape", "scale", "pos")
ENTROPY = np.array([1.0, 2.0, 4.0])
#: I(z_d; f_k) in nats; the shares (divided by ENTROPY) are in the comments.
MI = np.array([
    [0.0, 1.0, 0.4],    # z0: scale 0.5 (and pos 0.1)
    [0.8, 0.0, 0.0],    # z1: shape 0.8
    [0.3, 0.6, 0.0],    # z2: shape 0.3 = scale 0.3, a tie: the first factor wins
    [0.01, 0.02, 0.1],  # z3: every share below 0.05: no factor
    [0.9, 0.0, 0.0],    # z4: shape 0.9, but inactive
    [0.0, 0.0, 2.0],    # z5: pos 0.5
    [0.0, 1.0, 0.0],    # z6: scale 0.5, a tie with z0 broken by the larger KL
])
KL = np.array([1.0, 2.0, 0.5, 1.5, 0.001, 0.8, 1.2])


def test_rows_are_grouped_by_factor_then_the_rest_by_kl() -> None:
    rows = viz.label_latents(MI, ENTROPY, KL, NAMES)
    assert [r.dim for r in rows] == [1, 2, 6, 0, 5, 3, 4]
    assert [r.factor for r in rows] == [0, 0, 1, 1, 2, None, None]
    assert [r.label for r in rows] == [
        "z1  shape  (MI 0.80 of H)",
        "z2  shape  (MI 0.30 of H)",
        "z6  scale  (MI 0.50 of H)",
        "z0  scale  (MI 0.50 of H)",
        "z5  pos  (MI 0.50 of H)",
        "z3  no factor (KL 1.50)",
        "z4  inactive (KL 0.001)",
    ]
    assert [r.inactive for r in rows] == [False] * 6 + [True]
    assert rows[-1].share == pytest.approx(0.9)  # its best share, though it captures nothing
    assert rows[3].kl == 1.0


def test_thresholds_ties_in_kl_nan_and_constant_factors() -> None:
    mi = np.array([[0.05, 3.0], [0.049, 0.0], [0.2, 0.0], [0.0, 0.0], [0.0, 0.0]])
    entropy = np.array([1.0, 0.0])  # the second factor is constant: every share of it is 0
    kl = np.array([0.3, 0.3, np.nan, 0.3, 0.3])
    rows = viz.label_latents(mi, entropy, kl, ("a", "b"))
    # a share of exactly min_share captures; equal KLs keep index order; NaN KL is inactive
    assert [(r.dim, r.factor) for r in rows] == [(0, 0), (1, None), (3, None), (4, None),
                                                  (2, None)]
    assert rows[-1].label == "z2  inactive (KL nan)"
    share = viz.normalized_mutual_info(mi, entropy)
    np.testing.assert_allclose(share[:, 1], 0.0)
    stricter = viz.label_latents(mi, entropy, kl, ("a", "b"), min_share=0.1, inactive_kl=0.5)
    assert all(r.factor is None and r.inactive for r in stricter)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kl_per_dim": KL[:3]}, "3 entries for 7 latents"),
    ({"factor_names": ("a", "b")}, "2 factor_names for 3 factors"),
    ({"entropy": ENTROPY[:2]}, r"mutual_info \[D, K\] and entropy \[K\]"),
])
def test_mismatched_shapes_are_input_errors(kwargs: dict, match: str) -> None:
    args = {"mutual_info": MI, "entropy": ENTROPY, "kl_per_dim": KL, "factor_names": NAMES}
    with pytest.raises(InputError, match=match):
        viz.label_latents(**{**args, **kwargs})


def test_heatmap_is_written(tmp_path: Path) -> None:
    rows = viz.label_latents(MI, ENTROPY, KL, NAMES)
    for name, kwargs in (("ordered.png", {"rows": rows}), ("plain.png", {})):
        path = viz.save_mutual_info(tmp_path / name, MI, ENTROPY, NAMES, title="t", **kwargs)
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width > 300 and img.height > 300


# -- on a model ------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _first_party(first_party: PluginManager) -> Iterator[PluginManager]:
    yield first_party


@pytest.fixture(scope="module")
def beta(first_party_manager_obj: PluginManager) -> Any:
    with use_manager(first_party_manager_obj):
        return zoo.create("beta-vae", height=8, width=8, channels=1, hidden_dims=(8,),
                          latent_dim=3)


def _squares(with_factors: bool) -> ArrayDataset:
    """240 8x8 images of a bar at column 2 * pos (pos in 0..3), 2 or 5 pixels tall."""
    pos, size = np.meshgrid(np.arange(4), np.arange(2), indexing="ij")
    factors = np.tile(np.stack([pos.ravel(), size.ravel()], axis=1), (30, 1))
    images = np.zeros((len(factors), 8, 8, 1), np.uint8)
    for i, (p, s) in enumerate(factors):
        images[i, 1: 3 + 3 * s, 2 * p: 2 * p + 2] = 255
    if not with_factors:
        return ArrayDataset(images=images, name="bars")
    return ArrayDataset(images=images, factors=factors, name="bars",
                        factor_names=("pos", "size"), factor_sizes=(4, 2))


def test_latent_factors_measure_what_mig_measures(beta: Any) -> None:
    ds = _squares(True)
    info = viz.latent_factors(beta, ds)
    codes = np.asarray(beta.encode(ds.images.astype(np.float32) / 255.0)[0])
    expected = mig(codes, ds.factors)
    np.testing.assert_allclose(info["mutual_info"], expected["mutual_info"], rtol=1e-6)
    np.testing.assert_allclose(info["entropy"], expected["entropy"])
    assert info["mig"] == pytest.approx(expected["mig"])
    assert info["num_points"] == 240 and info["factor_names"] == ("pos", "size")
    assert info["rows"] == viz.label_latents(info["mutual_info"], info["entropy"],
                                             info["kl_per_dim"], ("pos", "size"))
    assert sorted(r.dim for r in info["rows"]) == [0, 1, 2]
    assert viz.latent_factors(beta, ds, points=100)["num_points"] == 100


def test_factor_traversal_writes_both_pictures(beta: Any, tmp_path: Path) -> None:
    ds = _squares(True)
    paths = viz.factor_traversal(beta, ds, tmp_path / "t.png",
                                 mutual_info_path=tmp_path / "mi.png")
    assert paths == [tmp_path / "t.png", tmp_path / "mi.png"]
    plain = viz.factor_traversal(beta, ds, tmp_path / "only.png")
    assert plain == [tmp_path / "only.png"]
    assert (tmp_path / "only.png").read_bytes() == (tmp_path / "t.png").read_bytes()
    with Image.open(tmp_path / "t.png") as img:  # 3 rows of 9 cells of 16 px, plus labels
        assert img.height > 3 * 16 and img.width > 9 * 16
    with pytest.raises(InputError, match="no ground-truth factors"):
        viz.factor_traversal(beta, _squares(False), tmp_path / "x.png")
    with pytest.raises(InputError, match="index must be in"):
        viz.factor_traversal(beta, ds, tmp_path / "x.png", index=240)


def test_standard_pictures_with_and_without_factors(beta: Any, tmp_path: Path) -> None:
    # without factors: the traversal ordered by KL, exactly as before
    ds = _squares(False)
    written = model_pictures(beta, ds, tmp_path / "plain")
    assert not (tmp_path / "plain" / "mutual_info.png").exists()
    x = ds.images[:500].astype(np.float32) / 255.0
    kl = viz.posterior_kl_per_dim(beta, x)
    images, dims = viz.traverse_model(beta, x[:1], kl_per_dim=kl)
    expected = viz.save_traversal(tmp_path / "expected.png", images, dims,
                                  list(viz.DEFAULT_VALUES), kl)
    assert tmp_path / "plain" / "traversal.png" in written
    assert (tmp_path / "plain" / "traversal.png").read_bytes() == expected.read_bytes()
    # with factors: the labelled traversal and the heatmap
    ds = _squares(True)
    written = model_pictures(beta, ds, tmp_path / "factors")
    assert {p.name for p in written} >= {"traversal.png", "mutual_info.png"}
    viz.factor_traversal(beta, ds, tmp_path / "direct.png")
    assert (tmp_path / "factors" / "traversal.png").read_bytes() == (
        tmp_path / "direct.png").read_bytes()
    assert traversal_picture(beta, ds, tmp_path / "cli.png").read_bytes() == (
        tmp_path / "direct.png").read_bytes()


def test_a_subset_is_the_one_zoo_eval_scores(beta: Any) -> None:
    """With more examples than ``points``, the figure measures the points ``zoo eval`` draws
    with the same seed, so the MIG a heatmap shows is the one in the card."""
    ds = _squares(True)
    codes = np.asarray(beta.encode(ds.images.astype(np.float32) / 255.0)[0])
    for seed in (0, 3):
        idx = disentanglement_points(len(ds.images), seed, 100)[0]
        info = viz.latent_factors(beta, ds, points=100, seed=seed)
        expected = mig(codes[idx], ds.factors[idx])
        np.testing.assert_allclose(info["mutual_info"], expected["mutual_info"], rtol=1e-6)
        assert info["mig"] == pytest.approx(expected["mig"])
