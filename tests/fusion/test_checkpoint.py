import os
import pickle
import zipfile

import pytest
import torch

from fusion.build import build_model
from fusion.checkpoint import FORMAT, load_checkpoint, load_unimodal_checkpoints, read_checkpoint, save_checkpoint
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from tests.fusion.tiny import randomise, tiny_config, tiny_inputs

LABELS = ("no_gesture", "fist", "swipe_left", "swipe_right", "push")


def test_round_trip_keeps_weights_and_metadata(tmp_path):
    config = tiny_config(shape="windowed", fusion="late", modalities=("depth", "skeleton"))
    model = randomise(build_model(config)).eval()
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, labels=LABELS, training={"command": "train --epochs 1", "data": "synthetic"})
    loaded, meta = load_checkpoint(path)
    assert meta.config == config and meta.labels == LABELS
    assert meta.training == {"command": "train --epochs 1", "data": "synthetic"}
    assert not loaded.training
    x = tiny_inputs(config)
    assert torch.equal(loaded(x).logits, model(x).logits)
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT and set(raw) == {"format", "metadata", "state_dict"}
    assert '"modalities": ["depth", "skeleton"]' in raw["metadata"] and '"input_spec"' in raw["metadata"]


def test_labels_default_to_the_project_vocabulary(tmp_path):
    model = build_model(tiny_config(num_classes=len(DEFAULT_LABELS)))
    save_checkpoint(tmp_path / "m.pt", model)
    assert read_checkpoint(tmp_path / "m.pt")[0].labels == DEFAULT_LABELS
    with pytest.raises(ValueError, match="labels"):
        save_checkpoint(tmp_path / "n.pt", model, labels=LABELS)


def _saved(tmp_path):
    path = tmp_path / "good.pt"
    save_checkpoint(path, build_model(tiny_config()), labels=LABELS)
    return path


def test_missing_truncated_and_foreign_files_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    data = _saved(tmp_path).read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match="not a readable"):
        load_checkpoint(tmp_path / "cut.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(BadInput, match="not a readable"):
        load_checkpoint(tmp_path / "text.pt")
    torch.save({"weight": torch.zeros(3)}, tmp_path / "plain.pt")
    with pytest.raises(BadInput, match="not an mmtm-live checkpoint"):
        load_checkpoint(tmp_path / "plain.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # a pickled module: refused by weights_only
    with pytest.raises(BadInput, match="not a readable"):
        load_checkpoint(tmp_path / "module.pt")


def test_inconsistent_metadata_or_weights_are_bad_input(tmp_path):
    raw = torch.load(_saved(tmp_path), weights_only=True)
    torch.save(dict(raw, metadata="{not json"), tmp_path / "json.pt")
    with pytest.raises(BadInput, match="bad checkpoint metadata"):
        load_checkpoint(tmp_path / "json.pt")
    torch.save(dict(raw, metadata=raw["metadata"].replace('"fist", ', "")), tmp_path / "labels.pt")
    with pytest.raises(BadInput, match="4 labels for a model with 5 classes"):
        load_checkpoint(tmp_path / "labels.pt")
    state = dict(raw["state_dict"])
    state.pop(next(iter(state)))
    torch.save(dict(raw, state_dict=state), tmp_path / "weights.pt")
    with pytest.raises(BadInput, match="weights do not fit"):
        load_checkpoint(tmp_path / "weights.pt")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_file_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    # the attack works when loaded unsafely (proves the payload is real) ...
    pickle.loads(pickle.dumps(_Evil(tmp_path / "control")))
    assert (tmp_path / "control").exists()
    # ... but not through load_checkpoint: neither as a torch zip nor as a raw pickle
    torch.save({"format": FORMAT, "metadata": _Evil(marker), "state_dict": {}}, tmp_path / "evil.pt")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(_Evil(marker)))
    for name in ("evil.pt", "evil.pkl"):
        with pytest.raises(BadInput, match="not a readable"):
            load_checkpoint(tmp_path / name)
    assert not marker.exists()
    assert zipfile.is_zipfile(tmp_path / "evil.pt")


def test_unimodal_checkpoints_load_into_the_mmtm_network(tmp_path):
    """The paper's recipe: the MMTM network starts out computing the average of the unimodal models."""
    fused_config = tiny_config(fusion="mmtm", mmtm_variant="paper")
    unimodal = {}
    for i, m in enumerate(fused_config.modalities):
        model = randomise(build_model(fused_config.replace(fusion="none", modalities=(m,))), seed=10 + i).eval()
        save_checkpoint(tmp_path / f"{m}.pt", model, labels=LABELS)
        unimodal[m] = model
    fused = build_model(fused_config).eval()
    load_unimodal_checkpoints(fused, {m: tmp_path / f"{m}.pt" for m in unimodal})
    x = tiny_inputs(fused_config)
    out = fused(x)
    alone = {m: unimodal[m]({m: x[m]}).logits for m in unimodal}
    for m in unimodal:
        assert torch.equal(out.streams[m], alone[m])
    assert torch.allclose(out.logits, torch.stack(list(alone.values())).mean(0), atol=1e-6, rtol=0)


def test_unimodal_loading_refuses_mismatches(tmp_path):
    fused = build_model(tiny_config())
    save_checkpoint(tmp_path / "late.pt", build_model(tiny_config(fusion="late")), labels=LABELS)
    with pytest.raises(BadInput, match="not a unimodal 'rgb' checkpoint"):
        load_unimodal_checkpoints(fused, {"rgb": tmp_path / "late.pt"})
    wide = tiny_config(fusion="none", modalities=("rgb",), video_widths=(4, 8, 8, 16))
    save_checkpoint(tmp_path / "wide.pt", build_model(wide), labels=LABELS)
    with pytest.raises(BadInput, match="video_widths"):
        load_unimodal_checkpoints(fused, {"rgb": tmp_path / "wide.pt"})


def test_a_stream_config_keeps_what_shapes_the_streams_weights():
    fused = tiny_config(mmtm_pooled=True, mmtm_variant="official", dropout=0.5, rgb_input="motion")
    alone = tiny_config(fusion="none", modalities=("skeleton",), mmtm_stages=(), dropout=0.1)
    assert fused.stream_config("skeleton") == alone.stream_config("skeleton")  # MMTM, dropout, rgb_input: free
    assert fused.stream_config("skeleton").fusion == "none" and fused.stream_config("skeleton").mmtm_placements == ()
    frames = tiny_config(fusion="none", modalities=("rgb",))
    assert fused.stream_config("rgb") != frames.stream_config("rgb")  # what the rgb stream sees counts for it
    assert fused.stream_config("rgb") == frames.replace(rgb_input="motion").stream_config("rgb")
    assert fused.stream_config("depth") != fused.replace(video_widths=(4, 8, 8, 16)).stream_config("depth")
