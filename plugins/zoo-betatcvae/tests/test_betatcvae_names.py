"""zoo's opt-in check of the installed environment: no other installed plugin (nor the core)
claims one of this plugin's names, and its "zoo.names" metadata lists every name it registers.
Unlike the other tests here it needs the plugin pip-installed (its metadata is what it checks)."""

from __future__ import annotations

import importlib.metadata

import pytest
import zoo_betatcvae.plugin


def test_names_are_free_and_declared(zoo_check_names_available) -> None:
    try:
        importlib.metadata.distribution("zoo-betatcvae")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("zoo-betatcvae is not pip-installed: its metadata is what is checked")
    assert zoo_check_names_available(zoo_betatcvae.plugin) == ["beta-tcvae",
                                                               "beta-tcvae-dsprites"]
