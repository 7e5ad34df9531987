import json

import onnx
import onnxruntime as ort
import pytest
import torch

import main
from fusion.build import build_model
from fusion.checkpoint import save_checkpoint
from fusion.export import ExportConfig, example_inputs, export_model, output_names
from tests.fusion.tiny import randomise, tiny_config

LABELS = ("no_gesture", "fist", "swipe_left", "swipe_right", "push")


def _checkpoint(tmp_path, **changes):
    torch.manual_seed(0)
    model = randomise(build_model(tiny_config(mmtm_variant="official", **changes))).eval()
    save_checkpoint(tmp_path / "m.pt", model, labels=LABELS)
    return tmp_path / "m.pt", model


POOLED, TEMPORAL = {"mmtm_pooled": True}, {"mmtm_temporal": (0, 1)}


@pytest.mark.parametrize("fmt,rgb_input,mmtm", [("torchscript", "frames", {}), ("onnx", "frames", {}),
                                                ("onnx", "motion", {}), ("torchscript", "motion", POOLED),
                                                ("onnx", "motion", POOLED), ("onnx", "motion", TEMPORAL)])
def test_streaming_step_export_matches_pytorch(tmp_path, fmt, rgb_input, mmtm):
    # motion: the previous rgb frame is state; pooled: an MMTM after the temporal layers' average too;
    # temporal: MMTMs between the temporal layers, on each step's features
    path, model = _checkpoint(tmp_path, rgb_input=rgb_input, **mmtm)
    report = export_model(ExportConfig(out=str(tmp_path / f"m.{fmt}"), format=fmt, model=str(path)))
    assert report.ok and report.kind == "step" and report.max_abs_error <= 1e-4
    # run the exported file ourselves: 3 chained steps, then compare with the model's own step()
    names, inputs = example_inputs(model)
    m = len(model.modalities)
    if fmt == "onnx":
        proto = onnx.load(report.path)
        meta = json.loads({p.key: p.value for p in proto.metadata_props}["mmtm_live"])
        session = ort.InferenceSession(report.path, providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == names
        assert [o.name for o in session.get_outputs()] == output_names(model)
        run = lambda *a: [torch.from_numpy(o) for o in session.run(None, {n: x.numpy() for n, x in zip(names, a)})]
    else:
        extra = {"metadata.json": ""}
        loaded = torch.jit.load(report.path, _extra_files=extra)
        meta = json.loads(extra["metadata.json"])
        def run(*a):
            with torch.jit.optimized_execution(False):
                return loaded(*a)
    assert meta["labels"] == list(LABELS)
    state = inputs[m + 1:]
    model.reset()
    with torch.inference_mode():
        for k in range(3):
            frames = [x * (k + 1) for x in inputs[:m]]
            out = run(*frames, inputs[m], *state)
            state = out[1 + m:]
            ref = model.step(dict(zip(model.modalities, frames)))
            assert torch.allclose(torch.as_tensor(out[0]), ref.logits, atol=1e-4, rtol=0)


@pytest.mark.parametrize("fmt,fusion", [("torchscript", {"fusion": "late"}), ("onnx", {"fusion": "late"}),
                                        ("onnx", {"fusion": "mmtm", "mmtm_pooled": True})])
def test_windowed_export_matches_pytorch(tmp_path, fmt, fusion):
    path, _ = _checkpoint(tmp_path, shape="windowed", modalities=("rgb", "skeleton"), **fusion)
    report = export_model(ExportConfig(out=str(tmp_path / f"w.{fmt}"), format=fmt, model=str(path)))
    assert report.ok and report.kind == "window"


def test_export_command_says_it_matches(tmp_path, capsys):
    path, _ = _checkpoint(tmp_path)
    assert main.main(["export", "--model", str(path), "--format", "onnx", "--out", str(tmp_path / "cli.onnx")]) == 0
    assert "matches PyTorch" in capsys.readouterr().out and (tmp_path / "cli.onnx").is_file()
    code = main.main(["export", "--model", str(tmp_path / "none.pt"), "--format", "onnx",
                      "--out", str(tmp_path / "x.onnx")])
    assert code == 2 and "checkpoint not found" in capsys.readouterr().err


def test_onnx_stepper_keeps_state_and_follows_the_missing_modality_rule(tmp_path):
    from fusion.errors import BadInput
    from fusion.export import OnnxStepper

    path, model = _checkpoint(tmp_path)
    export_model(ExportConfig(out=str(tmp_path / "s.onnx"), format="onnx", model=str(path)))
    stepper = OnnxStepper(tmp_path / "s.onnx")
    assert stepper.labels == LABELS and stepper.modalities == model.modalities
    g = torch.Generator().manual_seed(3)
    spec = model.config.input
    model.reset()
    with torch.inference_mode():
        for t in range(model.window + 2):
            frames = {"rgb": torch.randn(1, 3, spec.height, spec.width, generator=g),
                      "skeleton": torch.randn(1, spec.skeleton_channels, spec.joints, generator=g)}
            logits, streams = stepper.step({k: v.numpy() for k, v in frames.items()})
            ref = model.step(frames)  # no depth: zeros, left out of the average
        assert set(streams) == {"rgb", "skeleton"}
        assert torch.allclose(torch.from_numpy(logits), ref.logits, atol=1e-4, rtol=0)
    assert stepper.frames_seen == model.window + 2
    stepper.reset()
    assert stepper.frames_seen == 0
    with pytest.raises(BadInput, match="not found"):
        OnnxStepper(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"junk")
    with pytest.raises(BadInput, match="not a readable ONNX model"):
        OnnxStepper(tmp_path / "junk.onnx")
