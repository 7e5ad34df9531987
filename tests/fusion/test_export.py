import json
import subprocess
import sys

import onnx
import onnxruntime as ort
import pytest
import torch

from fusion.checkpoint import save_checkpoint
from fusion.export import ExportConfig, example_inputs, export_model, output_names
from fusion.model_config import build_model
from tests.conftest import ROOT
from tests.fusion.tiny import randomise, tiny_config

LABELS = ("no_gesture", "fist", "swipe_left", "swipe_right", "push")


def _checkpoint(tmp_path, **changes):
    torch.manual_seed(0)
    model = randomise(build_model(tiny_config(mmtm_variant="official", **changes))).eval()
    save_checkpoint(tmp_path / "m.pt", model, labels=LABELS)
    return tmp_path / "m.pt", model


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_streaming_step_export_matches_pytorch(tmp_path, fmt):
    path, model = _checkpoint(tmp_path)
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
        run = lambda *a: loaded(*a)
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


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_windowed_export_matches_pytorch(tmp_path, fmt):
    path, _ = _checkpoint(tmp_path, shape="windowed", fusion="late", modalities=("rgb", "skeleton"))
    report = export_model(ExportConfig(out=str(tmp_path / f"w.{fmt}"), format=fmt, model=str(path)))
    assert report.ok and report.kind == "window"


def test_export_command_says_it_matches(tmp_path):
    path, _ = _checkpoint(tmp_path)
    result = subprocess.run([sys.executable, "main.py", "export", "--model", str(path), "--format", "onnx",
                             "--out", str(tmp_path / "cli.onnx")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "matches PyTorch" in result.stdout and (tmp_path / "cli.onnx").is_file()
    bad = subprocess.run([sys.executable, "main.py", "export", "--model", str(tmp_path / "none.pt"), "--format",
                          "onnx", "--out", str(tmp_path / "x.onnx")], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 2 and "checkpoint not found" in bad.stderr and "Traceback" not in bad.stderr
