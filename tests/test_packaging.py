"""pyproject.toml is read by setuptools without a deprecation warning (set-up printed one three times)."""

import warnings

import pytest

from tests.conftest import ROOT


def test_setuptools_reads_the_project_without_warnings(tmp_path, monkeypatch):
    pytest.importorskip("setuptools.config.pyprojecttoml")
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)  # the readme and the packages are found from the project's root
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.get_name() == "mmtm-live"
