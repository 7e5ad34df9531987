import json

import numpy as np
import pytest

import main
from fusion.data.synthetic import dataset_files, world
from fusion.data.synthetic.dataset_files import SyntheticDataset, write_dataset
from fusion.data.synthetic.world import SynthConfig
from fusion.errors import BadInput

TINY = SynthConfig(width=40, height=30, frames=8, stream_gestures=2)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("ds")
    write_dataset(out, clips=dataset_files.SHARD_SIZE + 3, streams=1, seed=5, config=TINY, workers=2)
    return out


def test_reader_returns_what_the_generator_made(written):
    ds = SyntheticDataset(written)
    assert len(ds) == dataset_files.SHARD_SIZE + 3 and ds.num_shards == 2 and ds.num_streams == 1
    assert ds.labels == TINY.labels and ds.fps == 30.0 and ds.depth_scale == 0.001
    for i in (0, dataset_files.SHARD_SIZE + 1):
        got, made = ds.clip(i), world.make_clip(5, i, TINY)
        assert got.label == made.label and got.handedness == made.handedness and got.active == made.active
        for key in ("rgb", "depth", "skeleton", "world", "presence"):
            assert np.array_equal(getattr(got, key), getattr(made, key)), key
        assert got.intrinsics == pytest.approx(made.intrinsics)
    stream, made = ds.stream(0), world.make_stream(5, 0, TINY)
    assert stream.segments == made.segments and np.array_equal(stream.frame_labels, made.frame_labels)
    assert np.array_equal(stream.depth, made.depth)
    shard = ds.shard(1)
    assert shard["rgb"].shape == (3, 8, 30, 40, 3) and shard["label"].dtype.kind == "U"


def test_files_load_without_pickle(written):
    for path in written.glob("*.npz"):
        with np.load(path, allow_pickle=False) as data:
            assert all(data[k].dtype != object for k in data.files)


def test_same_seed_gives_byte_identical_files(written, tmp_path):
    write_dataset(tmp_path, clips=dataset_files.SHARD_SIZE + 3, streams=1, seed=5, config=TINY, workers=1)
    names = sorted(p.name for p in written.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for name in names:
        assert (written / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_rewriting_a_folder_drops_the_old_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset_files, "SHARD_SIZE", 2)
    write_dataset(tmp_path, clips=5, streams=1, seed=1, config=TINY, workers=1)
    assert len(list(tmp_path.glob("clips-*.npz"))) == 3
    write_dataset(tmp_path, clips=2, streams=0, seed=1, config=TINY, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clips-00000.npz", "index.json"]
    assert len(SyntheticDataset(tmp_path)) == 2


def test_damaged_datasets_are_bad_input(written, tmp_path):
    with pytest.raises(BadInput, match="no index.json"):
        SyntheticDataset(tmp_path)
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(BadInput, match="corrupt"):
        SyntheticDataset(tmp_path)
    for path in written.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    shard = tmp_path / "clips-00000.npz"
    shard.write_bytes(shard.read_bytes()[:5000])           # truncated
    with pytest.raises(BadInput, match="clips-00000"):
        SyntheticDataset(tmp_path).clip(0)
    (tmp_path / "clips-00001.npz").unlink()
    with pytest.raises(BadInput, match="missing"):
        SyntheticDataset(tmp_path).clip(dataset_files.SHARD_SIZE)
    index = json.loads((tmp_path / "index.json").read_text())
    index["format"] = "something-else"
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(BadInput, match="not a"):
        SyntheticDataset(tmp_path)


def test_a_shard_with_a_pickled_array_is_refused(tmp_path, written):
    for path in written.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    arrays = dict(np.load(written / "clips-00001.npz", allow_pickle=False))
    arrays["label"] = np.array([object()] * 3, dtype=object)
    np.savez(tmp_path / "clips-00001.npz", **arrays)
    with pytest.raises(BadInput):
        SyntheticDataset(tmp_path).clip(dataset_files.SHARD_SIZE)


def test_generate_command_json_and_errors(tmp_path, capsys):
    code = main.main(["generate", "--clips", "3", "--streams", "1", "--seed", "2", "--out", str(tmp_path / "d"),
                      "--size", "40x30", "--frames", "8", "--stream-gestures", "1", "--workers", "1", "--json"])
    out = capsys.readouterr()
    assert code == 0
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["clips"] == 3 and summary["streams"] == 1 and summary["seconds"] >= 0
    assert "4/4" in out.err                                  # the progress bar
    assert len(SyntheticDataset(tmp_path / "d")) == 3
    assert main.main(["generate", "--out", str(tmp_path / "e"), "--size", "big"]) == 2
    assert "WxH" in capsys.readouterr().err
    assert main.main(["generate", "--clips", "1"]) == 2
    assert main.main(["generate", "--out", str(tmp_path / "f"), "--size", "8x8"]) == 2
    assert "outside" in capsys.readouterr().err
    assert main.main(["generate", "--clips", "-1", "--out", str(tmp_path / "g")]) == 2


def test_preview_writes_a_contact_sheet(tmp_path):
    import cv2

    path = tmp_path / "sheet.png"
    assert main.main(["generate", "--preview", str(path), "--size", "40x30", "--frames", "8", "--workers", "1"]) == 0
    image = cv2.imread(str(path))
    assert image.shape[0] > 17 * 30 and image.shape[1] > 7 * 40
    assert main.main(["generate", "--preview", str(tmp_path / "sheet.jpg")]) == 2
