"""scripts/rgb_input_probe.py runs each rgb input on a real (tiny) dataset and reports its history."""

import json

import pytest

from tests.conftest import load_script
from tests.fusion.train_data import write_tiny_dataset


@pytest.fixture(scope="module")
def probe():
    return load_script("rgb_input_probe")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("probe") / "d", clips=20, streams=0)


@pytest.mark.parametrize("kind", ["frames", "motion", "frames+motion"])
def test_probe_trains_the_rgb_stream_on_each_input(probe, data, capsys, kind):
    assert probe.main(["--data", str(data), "--input", kind, "--steps", "2", "--every", "1", "--size", "32x24"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["input"] == kind and [p["step"] for p in report["history"]] == [1, 2]
    assert all(0.0 <= p["held_out_top1"] <= 1.0 and p["loss"] > 0 for p in report["history"])
