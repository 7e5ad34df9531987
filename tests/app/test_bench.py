import json

import pytest

import main
from app.bench import BenchConfig, run_bench, text_summary
from tests.app.engine_fixtures import tiny_checkpoint, write_moving


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(tiny_checkpoint(tmp_path_factory.mktemp("m") / "tiny.pt"))


def test_pipeline_bench_writes_report_plots_and_summary(tmp_path, model, capsys):
    rec = write_moving(tmp_path / "r.mmtm", n=30)
    code = main.main(["bench", "--source", str(rec), "--model", model, "--seconds", "5", "--out",
                      str(tmp_path / "out"), "--fast"])
    assert code == 0
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert report["kind"] == "pipeline" and report["frame_sets"] == 30
    assert report["decisions"] + report["skipped"] == 30
    assert report["latency_ms"]["p50"] > 0 and "inference" in report["stages_ms"]
    assert set(report["targets"]) == {"no_skipped_frame", "total_p95_ms<=20", "overhead_p95_ms<=3"}
    for png in ("latency_cdf.png", "timeline.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out, err = capsys.readouterr()
    assert "capture → decision ms" in out and out.strip() == text_summary(report)
    where = tmp_path / "out"
    assert err.splitlines()[-1] == f"bench: wrote {where / 'bench.json'}, {where / 'latency_cdf.png'}, {where / 'timeline.png'}"


def test_model_only_compares_variants_backends_and_batches(tmp_path, model):
    report = run_bench(BenchConfig(model=model, model_only=True, rounds=2, out=str(tmp_path), device="cpu"))
    rows = {(r["model"], r["backend"], r["batch"]): r for r in report["rows"]}
    assert rows[("streaming mmtm", "eager", 1)]["per_frame_ratio"] == 1.0
    for key in [("windowed mmtm", "eager", 1), ("streaming late", "eager", 1), ("streaming skeleton only", "eager", 1),
                ("streaming mmtm", "torchscript", 1), ("streaming mmtm", "onnxruntime", 1),
                ("streaming mmtm", "eager", 4)]:
        assert rows[key]["call_ms"] > 0 and rows[key]["per_frame_ratio"] > 0
        assert rows[key]["p95_ms"] >= rows[key]["call_ms"]
    assert len(rows) == len(report["rows"])  # on a CPU: fp32 only, no CUDA graph rows
    assert {(r["precision"], r["cuda_graphs"]) for r in report["rows"]} == {("fp32", False)}


def test_bench_bad_values_exit_2(capsys):
    assert main.main(["bench", "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err


def test_model_only_adds_half_precision_and_cuda_graphs_on_a_gpu(tmp_path, model):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    report = run_bench(BenchConfig(model=model, model_only=True, rounds=2, out=str(tmp_path), device="cuda"))
    kinds = {(r["precision"], r["cuda_graphs"], r["batch"]) for r in report["rows"] if r["model"] == "streaming mmtm"
             and r["backend"] == "eager"}
    assert {(p, g, n) for p in ("fp32", "fp16", "bf16") for g in (False, True) for n in (1, 2, 4)} <= kinds
    assert all(r["call_ms"] > 0 for r in report["rows"])


def test_a_video_source_is_held_against_mediapipes_own_cost_on_the_same_clip(tmp_path, model, capsys):
    pytest.importorskip("mediapipe")
    from tests.app.sources.test_video import write_video

    clip = write_video(tmp_path / "clip.avi", frames=12, fps=20.0, size=(160, 120))
    code = main.main(["bench", "--source", str(clip), "--model", model, "--seconds", "5", "--hands", "2",
                      "--out", str(tmp_path / "out")])
    assert code == 0
    report = json.loads((tmp_path / "out" / "bench.json").read_text())
    reference = report["mediapipe_reference"]
    assert reference["what"] == "HandLandmarker" and reference["hands"] == 2
    assert reference["frames"] == report["frames"]["color"] - 1 == 11  # every frame the pipeline saw, less the first
    assert 0 < reference["ms"]["p50"] <= reference["ms"]["p95"] <= reference["ms"]["max"]
    ratio = report["targets"]["total_p95<=1.3x_mediapipe_p95"]
    assert ratio["value"] == round(report["latency_ms"]["p95"] / reference["ms"]["p95"], 3)
    assert ratio["met"] == (ratio["value"] <= 1.3)
    assert "MediaPipe's own HandLandmarker (2 hand(s)) on the same clip" in capsys.readouterr().out


def test_a_missing_reference_bundle_is_one_line_and_exit_2(tmp_path, capsys):
    assert main.main(["bench", "--source", "sample", "--reference", str(tmp_path / "nope.task")]) == 2
    assert "gesture_recognizer.task" in capsys.readouterr().err
