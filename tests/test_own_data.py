"""Your own data: an .npz, a folder of PNGs or arrays, trained on, resumed and evaluated like a
registered dataset; every malformed input refused with its fix, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.cli import main
from zoo.data import DatasetError
from zoo.runs import RunError
from zoo.train import TrainConfig, train

from .conftest import LATENT, TINY_MODEL

N = 40
SMALL = ["max_steps=3", "batch_size=8", "log_every=1", "eval_every=3", "checkpoint_every=1",
         "hidden_dims=8", "latent_dim=2"]


def _images(n: int = N, seed: int = 0, shape: tuple[int, ...] = (8, 8)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def _npz(path: Path, seed: int = 0, **arrays: Any) -> Path:
    arrays = arrays or {"images": _images(seed=seed), "labels": np.arange(N) % 3}
    np.savez(path, **arrays)
    return path


def _pngs(folder: Path, images: np.ndarray, prefix: str = "img") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        Image.fromarray(im).save(folder / f"{prefix}{i:03d}.png")


def _cli_train(data: Path | str, out: Path, *extra: str) -> int:
    return main(["train", "beta-vae", "--dataset", str(data), "--out", str(out),
                 "--no-progress", *SMALL, *extra])


def test_npz_trains_from_the_cli_and_records_its_data(world, tmp_path, capsys) -> None:
    data = _npz(tmp_path / "mine.npz")
    assert _cli_train(data, tmp_path / "run") == 0
    assert "finished at step 3" in capsys.readouterr().out
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["train_config"]["dataset"] == str(data.resolve())
    assert run["train_config"]["validation_size"] == N // 10  # the own-data default
    assert run["data"]["path"] == str(data.resolve())
    assert run["data"]["examples"] == N and run["data"]["image_shape"] == [8, 8, 1]
    assert len(run["data"]["sha256"]) == 64 and run["data"]["labels"]
    assert zoo.load(tmp_path / "run" / "best").config.image_shape == (8, 8, 1)
    assert (tmp_path / "run" / "plots" / "reconstructions.png").is_file()
    # an explicit validation_size is kept; the same data in another file has the same hash
    same = _npz(tmp_path / "copy.npz", x=_images(), y=np.arange(N) % 3)
    assert _cli_train(same, tmp_path / "run2", "validation_size=0") == 0
    run2 = json.loads((tmp_path / "run2" / "run.json").read_text())
    assert run2["train_config"]["validation_size"] == 0
    assert run2["data"]["sha256"] == run["data"]["sha256"]


def test_python_arrays_train_resume_and_refuse_other_arrays(world, tmp_path) -> None:
    x = _images().astype(np.float32) / 255  # floats in [0, 1]
    y = np.arange(N) % 4
    tc = TrainConfig(max_steps=4, batch_size=8, log_every=1, eval_every=2, checkpoint_every=1)
    model = {**TINY_MODEL, **LATENT["cvae"]}
    kw: dict[str, Any] = {"train_config": tc, "model_overrides": model, "progress": False}
    part = train("cvae", out=tmp_path / "r", images=x, labels=y, until_step=2, **kw)
    assert (part.step, part.finished) == (2, False)
    run = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run["data"]["source"] == "arrays"
    assert run["train_config"]["dataset"] == "arrays:" + run["data"]["sha256"][:16]
    assert run["model_config"]["num_classes"] == 4
    with pytest.raises(RunError, match="data changed"):
        train("cvae", out=tmp_path / "r", images=x[::-1], labels=y, resume=True, **kw)
    done = train("cvae", out=tmp_path / "r", images=x, labels=y, resume=True, **kw)
    assert done.finished and done.step == 4
    # the same arrays as uint8 are the same data; the dataset object the trainer reads
    name = zoo.data.register_arrays(_images(), y)
    assert name == run["train_config"]["dataset"]
    ds = zoo.load_dataset(name, "test")
    assert ds.images.dtype == np.uint8 and ds.images.shape == (N, 8, 8, 1)
    with pytest.raises(zoo.InputError, match="labels= goes with images="):
        train("cvae", out=tmp_path / "l", labels=y, **kw)


def test_png_folders_flat_and_one_subfolder_per_class(world, tmp_path, capsys) -> None:
    rgb = _images(12, shape=(8, 8, 3))
    _pngs(tmp_path / "flat", rgb)
    (tmp_path / "flat" / "notes.txt").write_text("ignored")
    flat = zoo.load_dataset(str(tmp_path / "flat"), "test")
    assert np.array_equal(flat.images, rgb) and flat.labels is None
    assert np.array_equal(zoo.data.from_folder(tmp_path / "flat").images, rgb)
    grey = _images(N)
    _pngs(tmp_path / "classes" / "b", grey[:15])
    _pngs(tmp_path / "classes" / "a", grey[15:])
    ds = zoo.data.from_folder(tmp_path / "classes")
    assert np.array_equal(ds.labels, [0] * 25 + [1] * 15) and ds.images.shape == (N, 8, 8, 1)
    assert zoo.get_dataset(str(tmp_path / "classes")).class_names == ("a", "b")
    assert _cli_train(tmp_path / "flat", tmp_path / "run", "validation_size=0") == 0
    assert zoo.load(tmp_path / "run" / "best").config.image_shape == (8, 8, 3)
    assert main(["train", "cvae", "--dataset", str(tmp_path / "classes"), "--out",
                 str(tmp_path / "c"), "--no-progress", *SMALL]) == 0
    assert zoo.load(tmp_path / "c" / "best").config.num_classes == 2


def _mixed_sizes(folder: Path) -> Path:
    _pngs(folder, _images(3))
    _pngs(folder, _images(2, shape=(9, 8)), prefix="big")
    return folder


BAD = {
    "no images array": (lambda p: _npz(p / "d.npz", pixels=_images()), "no 'images' array"),
    "wrong rank": (lambda p: _npz(p / "d.npz", images=np.zeros((N, 64), np.uint8)),
                   r"must be \[N, H, W\] or \[N, H, W, C\]"),
    "channels first": (lambda p: _npz(p / "d.npz", images=np.zeros((N, 1, 8, 8), np.uint8)),
                       r"transpose\(0, 2, 3, 1\)"),
    "floats above 1": (lambda p: _npz(p / "d.npz", images=_images().astype(np.float32)),
                       r"outside \[0, 1\].*x / 255"),
    "not finite": (lambda p: _npz(p / "d.npz", images=np.full((N, 8, 8), np.nan, np.float32)),
                   "NaN or infinite"),
    "int64 pixels": (lambda p: _npz(p / "d.npz", images=_images().astype(np.int64)),
                     r"images are int64.*astype\(np.uint8\)"),
    "no images": (lambda p: _npz(p / "d.npz", images=np.zeros((0, 8, 8), np.uint8)),
                  "there are no images"),
    "labels too short": (lambda p: _npz(p / "d.npz", images=_images(), labels=np.arange(N - 1)),
                         r"labels of shape \(39,\) for 40 images"),
    "float labels": (lambda p: _npz(p / "d.npz", images=_images(), labels=np.zeros(N)),
                     "integer class indices"),
    "negative labels": (lambda p: _npz(p / "d.npz", images=_images(), labels=-np.ones(N, int)),
                        ">= 0"),
    "pickled objects": (lambda p: _npz(p / "d.npz", images=np.array([None] * N, object)),
                        "pickle"),
    "not an npz": (lambda p: (p / "d.npz").write_bytes(b"no zip") and p / "d.npz",
                   "not an .npz archive"),
    "a .npy file": (lambda p: np.save(p / "d.npy", _images()) or p / "d.npy", "np.savez"),
    "missing": (lambda p: p / "nothing.npz", "no file or folder"),
    "empty folder": (lambda p: (p / "pngs").mkdir() or p / "pngs", "no PNG images.*empty"),
    "PNG sizes differ": (lambda p: _mixed_sizes(p / "pngs"), r"differ in size.*9x8"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_data_is_refused_with_its_fix_and_writes_nothing(world, tmp_path, capsys,
                                                             case) -> None:
    make, message = BAD[case]
    (tmp_path / "in").mkdir()
    data = make(tmp_path / "in")
    with pytest.raises(DatasetError, match=message):
        zoo.load_dataset(str(data), "test")
    assert _cli_train(data, tmp_path / "run") == 2
    assert "zoo: error" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_shape_clash_and_bare_folder_name(world, tmp_path, capsys, monkeypatch) -> None:
    data = _npz(tmp_path / "mine.npz")
    assert _cli_train(data, tmp_path / "run", "height=28") == 2
    assert "pass height=8 to match the data" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    _pngs(tmp_path / "pngs", _images(4))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(zoo.UnknownNameError, match=r"write \./pngs"):
        zoo.load_dataset("pngs")
    assert len(zoo.load_dataset("./pngs", "test")) == 4
    with pytest.raises(DatasetError, match="another process"):
        zoo.load_dataset("arrays:0123456789abcdef")


def test_resume_on_changed_data_is_refused_and_eval_reads_a_path(world, tmp_path,
                                                                  capsys) -> None:
    data = _npz(tmp_path / "mine.npz")
    out = tmp_path / "run"
    assert _cli_train(data, out, "--until-step", "2") == 0
    last = (out / "checkpoints" / "last" / "model.safetensors").read_bytes()
    _npz(data, seed=1)  # other images in the same file
    capsys.readouterr()
    assert _cli_train(data, out, "--resume") == 2
    err = capsys.readouterr().err
    assert "its data changed since the run started" in err and "another --out" in err
    assert (out / "checkpoints" / "last" / "model.safetensors").read_bytes() == last
    _npz(data)  # restored: the resume goes on
    assert _cli_train(data, out, "--resume") == 0
    assert "finished at step 3" in capsys.readouterr().out

    held_out = _npz(tmp_path / "test.npz", images=_images(10, seed=2))
    assert main(["eval", str(out), "--dataset", str(held_out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["split"] == "test" and result["examples"] == 10  # all of the file
    assert main(["eval", str(out), "--dataset", str(data), "--split", "validation",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["examples"] == N // 10  # the run's validation
    wrong = _npz(tmp_path / "big.npz", images=_images(10, shape=(9, 9)))
    assert main(["eval", str(out), "--dataset", str(wrong)]) == 2
    assert "(9, 9, 1)" in capsys.readouterr().err
