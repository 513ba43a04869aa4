"""zoo.viz rendering: grid arithmetic, pixel placement, labelled PNGs, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from zoo import viz
from zoo.errors import InputError


def grid_size(rows: int, cols: int, h: int, w: int, *, pad: int, scale: int) -> tuple[int, int]:
    return rows * h * scale + (rows + 1) * pad, cols * w * scale + (cols + 1) * pad


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def cell(grid: np.ndarray, r: int, c: int, h: int, w: int, *, pad: int, scale: int) -> np.ndarray:
    y, x = pad + r * (h * scale + pad), pad + c * (w * scale + pad)
    return grid[y : y + h * scale, x : x + w * scale]


def no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# -- image_grid ------------------------------------------------------------------------------------
def test_flat_grid_size_follows_the_arithmetic() -> None:
    images = np.zeros((5, 3, 4, 1))
    grid = viz.image_grid(images, ncols=3, pad=2, scale=2)
    assert grid.dtype == np.uint8
    assert grid.shape == (*grid_size(2, 3, 3, 4, pad=2, scale=2), 3)
    # default: a near-square grid (ceil(sqrt(5)) = 3 columns)
    assert viz.image_grid(images).shape == grid.shape


def test_white_image_lands_in_its_cell() -> None:
    images = np.zeros((2, 3, 4, 5, 1), np.float32)
    images[1, 2] = 1.0
    pad, scale = 2, 3
    grid = viz.image_grid(images, pad=pad, scale=scale, pad_value=0.5)
    assert grid.shape == (*grid_size(2, 3, 4, 5, pad=pad, scale=scale), 3)
    for r in range(2):
        for c in range(3):
            expected = 255 if (r, c) == (1, 2) else 0
            assert (cell(grid, r, c, 4, 5, pad=pad, scale=scale) == expected).all(), (r, c)
    assert (grid[:pad] == 128).all() and (grid[:, :pad] == 128).all()  # grey border
    assert grid.sum() == 255 * 3 * (4 * scale) * (5 * scale) + 128 * 3 * (
        grid.shape[0] * grid.shape[1] - 6 * (4 * scale) * (5 * scale)
    )


def test_pixels_are_upscaled_nearest_neighbour_and_colour_is_kept() -> None:
    image = np.zeros((1, 2, 2, 3), np.float32)
    image[0, 0, 1] = (1.0, 0.0, 0.0)  # one red pixel at row 0, column 1
    grid = viz.image_grid(image, pad=0, scale=4)
    assert grid.shape == (8, 8, 3)
    assert (grid[0:4, 4:8] == (255, 0, 0)).all()
    assert (grid[4:8] == 0).all() and (grid[0:4, 0:4] == 0).all()


def test_empty_cells_and_out_of_range_values() -> None:
    images = np.array([2.0, -1.0, np.nan]).reshape(3, 1, 1, 1)
    grid = viz.image_grid(images, ncols=2, pad=1, scale=1, pad_value=0.0)
    assert grid.shape == (5, 5, 3)
    assert (grid[1, 1] == 255).all()  # clipped to 1
    assert (grid[1, 3] == 0).all()  # clipped to 0
    assert (grid[3, 1] == 0).all()  # NaN renders black
    assert (grid[3, 3] == 0).all()  # empty slot: pad_value
    uint8 = viz.image_grid(np.full((1, 2, 2, 1), 255, np.uint8), pad=0, scale=1)
    assert (uint8 == 255).all()


@pytest.mark.parametrize(
    ("images", "kwargs", "match"),
    [
        (np.zeros((2, 1, 8, 8)), {}, "transpose"),  # NCHW
        (np.zeros((8, 8, 1)), {}, "4-d or 5-d"),
        (np.zeros((2, 3, 4, 4, 1)), {"ncols": 2}, "drop ncols"),
        (np.zeros((2, 4, 4, 1), np.int64), {}, "dtype"),
        (np.zeros((2, 4, 4, 1)), {"pad": -1}, "pad"),
        (np.zeros((2, 4, 4, 1)), {"scale": 0}, "scale"),
        (np.zeros((2, 4, 4, 1)), {"pad_value": 2.0}, "pad_value"),
    ],
)
def test_bad_grid_input_is_an_input_error(images: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        viz.image_grid(images, **kwargs)


# -- PNG files -------------------------------------------------------------------------------------
def test_save_grid_without_labels_is_exactly_the_grid(tmp_path: Path) -> None:
    images = np.random.default_rng(0).random((6, 4, 4, 3))
    path = viz.save_grid(tmp_path / "g.png", images, ncols=4)
    assert path == tmp_path / "g.png"
    np.testing.assert_array_equal(read_png(path), viz.image_grid(images, ncols=4))


def test_save_grid_labels_sit_in_a_left_and_top_margin(tmp_path: Path) -> None:
    images = np.random.default_rng(1).random((2, 3, 4, 4, 1))
    grid = viz.image_grid(images)
    png = read_png(viz.save_grid(tmp_path / "g.png", images, row_labels=["a", "bb"],
                                 col_labels=["x", "y", "z"], title="title"))
    gh, gw = grid.shape[:2]
    assert png.shape[0] > gh and png.shape[1] > gw
    np.testing.assert_array_equal(png[-gh:, -gw:], grid)  # the grid is flush bottom-right
    margin = png[: png.shape[0] - gh]
    assert (margin < 128).any()  # some dark text was drawn above the grid


def test_label_count_must_match_the_grid(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="row_labels"):
        viz.save_grid(tmp_path / "g.png", np.zeros((2, 3, 4, 4, 1)), row_labels=["one"])
    with pytest.raises(InputError, match="class_names"):
        viz.save_class_grid(tmp_path / "c.png", np.zeros((2, 3, 4, 4, 1)), class_names="ab")
    assert not (tmp_path / "g.png").exists()


def test_only_png_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.png"):
        viz.save_samples(tmp_path / "s.jpg", np.zeros((2, 4, 4, 1)))


def test_order_by_kl_is_descending_stable_and_puts_nan_last() -> None:
    assert viz.order_by_kl([0.1, 2.0, float("nan"), 2.0, 0.5]) == [1, 3, 4, 0, 2]


def test_save_traversal_rows_keep_the_given_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    images = rng.random((3, 5, 6, 6, 1))
    kl = [0.5, 3.0, 0.0, 1.25]
    dims = [1, 3, 0]
    path = viz.save_traversal(tmp_path / "t.png", images, dims, np.linspace(-2, 2, 5), kl)
    grid = viz.image_grid(images)
    png = read_png(path)
    np.testing.assert_array_equal(png[-grid.shape[0]:, -grid.shape[1]:], grid)
    assert png.shape[1] > grid.shape[1] and png.shape[0] > grid.shape[0]
    with pytest.raises(InputError, match="indexed by latent dimension"):
        viz.save_traversal(tmp_path / "t.png", images, [1, 3, 7], [0, 1, 2, 3, 4], kl)
    with pytest.raises(InputError, match="values"):
        viz.save_traversal(tmp_path / "t.png", images, dims, [0.0, 1.0], None)


def test_save_reconstructions_puts_inputs_over_outputs(tmp_path: Path) -> None:
    h = w = 4
    inputs, outputs = np.ones((5, h, w, 1)), np.zeros((5, h, w, 1))
    png = read_png(viz.save_reconstructions(tmp_path / "r.png", inputs, outputs, ncols=3))
    gh, gw = grid_size(4, 3, h, w, pad=2, scale=2)  # 2 chunks of (input row, output row)
    grid = png[-gh:, -gw:]
    assert png.shape[1] > gw  # "input"/"output" labels on the left
    for r, c, expected in [(0, 0, 255), (0, 2, 255), (1, 0, 0), (1, 2, 0), (2, 1, 255),
                           (3, 1, 0), (2, 2, 128), (3, 2, 128)]:
        assert (cell(grid, r, c, h, w, pad=2, scale=2) == expected).all(), (r, c)
    with pytest.raises(InputError, match="differ in shape"):
        viz.save_reconstructions(tmp_path / "r.png", inputs, outputs[:4])


def test_save_samples_and_class_grid_sizes(tmp_path: Path) -> None:
    png = read_png(viz.save_samples(tmp_path / "s.png", np.zeros((10, 5, 7, 3)), ncols=4))
    assert png.shape == (*grid_size(3, 4, 5, 7, pad=2, scale=2), 3)
    images = np.random.default_rng(3).random((3, 4, 5, 5, 1))
    png = read_png(viz.save_class_grid(tmp_path / "c.png", images, ["zero", "one", "two"]))
    grid = viz.image_grid(images)
    np.testing.assert_array_equal(png[-grid.shape[0]:, -grid.shape[1]:], grid)


def test_codebook_usage_chart(tmp_path: Path) -> None:
    counts = np.r_[np.arange(40, 0, -1), np.zeros(24)]
    rng = np.random.default_rng(4)
    path = viz.save_codebook_usage(tmp_path / "u.png", rng.permutation(counts), title="codes")
    with Image.open(path) as img:
        assert img.size == (800, 360)
    path = viz.save_codebook_usage(tmp_path / "z.png", np.zeros(8), perplexity=1.0)
    assert path.is_file()
    with pytest.raises(InputError, match="non-negative"):
        viz.save_codebook_usage(tmp_path / "u.png", [1.0, -1.0])


# -- atomic writes ---------------------------------------------------------------------------------
def test_failed_render_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "s.png"
    viz.save_samples(path, np.zeros((2, 4, 4, 1)))
    before = path.read_bytes()
    with pytest.raises(InputError):
        viz.save_samples(path, np.zeros((2, 4, 4, 2)))
    assert path.read_bytes() == before
    assert no_temp_files(tmp_path)


@pytest.mark.parametrize("writer", ["grid", "chart"])
def test_failed_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          writer: str) -> None:
    path = tmp_path / "out.png"
    path.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        if writer == "grid":
            viz.save_grid(path, np.ones((2, 4, 4, 1)))
        else:
            viz.save_codebook_usage(path, [3, 2, 0])
    assert path.read_bytes() == b"old"
    assert no_temp_files(tmp_path)


def test_charts_leave_pyplot_alone(tmp_path: Path) -> None:
    code = (
        "import sys, numpy as np; from zoo import viz; "
        f"viz.save_codebook_usage({str(tmp_path / 'u.png')!r}, np.arange(5)); "
        f"viz.save_training_curves({str(tmp_path / 'c.png')!r}, [{{'step': 1, 'loss': 2}}]); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
