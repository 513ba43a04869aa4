"""A tiny end-to-end run through zoo's training loop: the loss goes down, the run is loadable."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import zoo_betatcvae.plugin

import zoo
from zoo.data import ArrayDataset
from zoo.plugins import PluginManager, use_manager
from zoo.train import TrainConfig, train


def _bars(n: int, seed: int) -> ArrayDataset:
    """8x8 images made of two independent factors: one bright row and one bright column."""
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(0, 8, n), rng.integers(0, 8, n)
    images = np.zeros((n, 8, 8, 1), np.uint8)
    images[np.arange(n), rows, :, 0] = 255
    images[np.arange(n), :, cols, 0] = 255
    return ArrayDataset(images=images, name="bars", factors=np.stack([rows, cols], 1),
                        factor_names=("row", "col"), factor_sizes=(8, 8))


class BarsPlugin:
    @zoo.hookimpl
    def zoo_register_datasets(self, register: Any) -> None:
        def loader(partition: str, *, cache_dir: Any = None, **options: Any) -> ArrayDataset:
            return _bars(256 if partition == "train" else 64, {"train": 0, "test": 1}[partition])

        register(zoo.DatasetSpec(name="bars", loader=loader, image_shape=(8, 8, 1),
                                 factor_names=("row", "col"), factor_sizes=(8, 8)))


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_training_lowers_the_loss(tmp_path, estimator) -> None:
    manager = PluginManager(strict=True)
    manager.register(zoo_betatcvae.plugin, name="beta-tcvae")
    manager.register(BarsPlugin(), name="bars")
    tc = TrainConfig(dataset="bars", batch_size=32, max_steps=80, learning_rate=3e-3,
                     validation_size=64, eval_every=40, checkpoint_every=80, log_every=10,
                     seed=0)
    model = {"hidden_dims": (32,), "latent_dim": 2, "dataset_size": 192,
             "estimator": estimator}
    with use_manager(manager):
        result = train("beta-tcvae", out=tmp_path / "run", train_config=tc,
                       model_overrides=model, progress=False)
        assert result.finished and result.step == 80
        assert result.model.config.dataset_size == 192
        loaded = zoo.load(tmp_path / "run" / "best")
        assert loaded.config == result.model.config
    rows = [json.loads(line) for line in
            (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if "loss" in r]
    for key in ("reconstruction_loss", "kl_loss", "negative_elbo", "index_code_mi",
                "total_correlation", "dimwise_kl"):
        assert key in train_rows[0], key
    assert any("val/total_correlation" in r for r in rows)
    first, last = train_rows[0], train_rows[-1]
    # compare differences, not ratios
    assert last["loss"] < first["loss"] - 5.0, (first, last)
    assert last["reconstruction_loss"] < first["reconstruction_loss"]
