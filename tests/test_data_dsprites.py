"""Procedural dSprites: the factor grid, its order, and what the images look like."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import zoo
from zoo.data import DatasetError, batches
from zoo.data import dsprites as ds

from .data_helpers import builtin_manager

__all__ = ["builtin_manager"]


def image(shape=0, scale=5, orientation=0, pos_x=15, pos_y=15) -> np.ndarray:
    return ds.render([[shape, scale, orientation, pos_x, pos_y]])[0, :, :, 0]


def area(img: np.ndarray) -> int:
    return int((img > 0).sum())


def centroid(img: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(img)
    return float(rows.mean()), float(cols.mean())


def reference(f) -> np.ndarray:
    """Direct evaluation of the shape at every pixel centre (no lookup tables)."""
    shape, scale, orientation, pos_x, pos_y = f
    j = np.arange(64)
    dx = ((6 * j - 65 - 8 * pos_x) / 6)[None, :]
    dy = -((6 * j - 65 - 8 * pos_y) / 6)[:, None]
    s, theta = ds.FACTOR_VALUES["scale"][scale], ds.FACTOR_VALUES["orientation"][orientation]
    lx = (np.cos(theta) * dx + np.sin(theta) * dy) / s
    ly = (-np.sin(theta) * dx + np.cos(theta) * dy) / s
    if shape == 0:
        inside = np.maximum(np.abs(lx), np.abs(ly)) <= 8
    elif shape == 1:
        inside = (lx / 10) ** 2 + (ly / 5) ** 2 <= 1
    else:
        inside = ds._heart_inside(lx / ds._HEART_SIZE, ly / ds._HEART_SIZE)
    return inside.astype(np.uint8) * 255


def test_factor_grid_and_order() -> None:
    assert int(np.prod(ds.FACTOR_SIZES)) == ds.NUM_IMAGES == 737_280
    f = ds.indices_to_factors([0, 1, 32, 1024, 40 * 1024, 6 * 40 * 1024, ds.NUM_IMAGES - 1])
    assert f.tolist() == [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0],
                          [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [2, 5, 39, 31, 31]]
    idx = np.random.default_rng(0).integers(0, ds.NUM_IMAGES, 100)
    assert np.array_equal(ds.factors_to_indices(ds.indices_to_factors(idx)), idx)
    assert np.allclose(ds.FACTOR_VALUES["scale"], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert ds.FACTOR_VALUES["orientation"][-1] < 2 * np.pi
    assert [len(ds.FACTOR_VALUES[n]) for n in ds.FACTOR_NAMES] == list(ds.FACTOR_SIZES)


def test_spec_and_loading_subsets(builtin_manager) -> None:
    spec = zoo.get_dataset("dsprites")
    assert spec.factor_names == ds.FACTOR_NAMES and spec.factor_sizes == ds.FACTOR_SIZES
    assert spec.image_shape == (64, 64, 1) and spec.class_names == ds.SHAPE_NAMES
    hearts = zoo.load_dataset("dsprites", select={"shape": 2, "scale": [4, 5]}, sample=200)
    assert len(hearts) == 200 and hearts.images.shape == (200, 64, 64, 1)
    assert np.all(hearts.labels == 2) and np.all(hearts.factors[:, 0] == 2)
    assert set(hearts.factors[:, 1]) == {4, 5}
    assert np.array_equal(hearts.images, ds.render(hearts.factors))
    first = zoo.load_dataset("dsprites", limit=40)
    assert np.array_equal(first.factors, ds.indices_to_factors(np.arange(40)))
    assert len(first.select(pos_y=[0, 1])) == 4
    with pytest.raises(DatasetError, match="no test split"):
        zoo.load_dataset("dsprites", "test")
    val = zoo.load_dataset("dsprites", "validation", validation_size=1000, sample=50)
    train = zoo.load_dataset("dsprites", "train", validation_size=1000, sample=50, seed=1)
    assert set(ds.factors_to_indices(val.factors)).isdisjoint(ds.factors_to_indices(train.factors))
    x = next(batches(hearts, 16, seed=0, epoch=0))["x"]
    assert set(np.unique(x).tolist()) == {0.0, 1.0}


def test_rendering_matches_direct_evaluation() -> None:
    rng = np.random.default_rng(1)
    factors = np.stack([rng.integers(0, n, 60) for n in ds.FACTOR_SIZES], axis=1)
    factors[:4, 3:] = [[0, 0], [31, 31], [0, 31], [31, 0]]  # the corners
    images = ds.render(factors)
    assert set(np.unique(images).tolist()) == {0, 255}
    for f, img in zip(factors, images, strict=True):
        assert np.array_equal(img[..., 0], reference(f)), f


def test_shapes_differ_and_stay_inside_the_frame() -> None:
    shapes = [image(shape=s) for s in range(3)]
    assert all(area(img) > 50 for img in shapes)
    assert len({img.tobytes() for img in shapes}) == 3
    for s in range(3):
        centre = area(image(shape=s, orientation=5))
        for px, py in [(0, 0), (31, 31), (0, 31), (31, 0)]:
            for o in (0, 5, 10, 15):  # largest scale, corner positions, several angles
                assert area(image(shape=s, orientation=o, pos_x=px, pos_y=py)) > 0.85 * centre


def test_scale_grows_the_area_monotonically() -> None:
    for s in range(3):
        for o in (0, 7, 23):
            areas = [area(image(shape=s, scale=k, orientation=o)) for k in range(6)]
            assert all(a < b for a, b in itertools.pairwise(areas)), (s, o, areas)
            assert 2.5 < areas[-1] / areas[0] < 5.5  # area goes with scale^2 = 4


def test_position_moves_the_centroid_monotonically() -> None:
    for s in range(3):
        xs = [centroid(image(shape=s, orientation=3, pos_x=k))[1] for k in range(32)]
        ys = [centroid(image(shape=s, orientation=3, pos_y=k))[0] for k in range(32)]
        for values in (xs, ys):
            steps = np.diff(values)
            assert np.all(steps > 0) and abs(steps.mean() - 4 / 3) < 0.05
        rows_constant = [centroid(image(shape=s, orientation=3, pos_x=k))[0] for k in range(32)]
        assert np.ptp(rows_constant) < 0.5  # pos_x moves horizontally only


def test_orientation_rotates() -> None:
    for s, period in ((0, 10), (1, 20)):  # a square repeats every 90 degrees, an ellipse 180
        a, b = image(shape=s, orientation=3), image(shape=s, orientation=3 + period)
        assert (a != b).mean() < 0.01
    heart_up, heart_down = image(shape=2, orientation=0), image(shape=2, orientation=20)
    assert (heart_up != heart_down).mean() > 0.02
    # rotating by pi about the frame's centre maps position 15 onto position 16
    flipped = image(shape=2, orientation=20, pos_x=16, pos_y=16)[::-1, ::-1]
    assert (flipped != heart_up).mean() < 0.01
