"""Swapping the model of a running engine (Engine.swap_model): a taught model without reopening the source."""

import io
import time

import torch

from app.engine import Engine, EngineConfig
from app.model_runner import RunnerConfig
from fusion.build import build_model
from fusion.checkpoint import save_checkpoint
from fusion.labels import DEFAULT_LABELS
from tests.app.engine_fixtures import tiny_checkpoint, tiny_model_config, write_moving
from tests.fusion.tiny import randomise

SKELETON = dict(fusion="none", modalities=("skeleton",))


def taught_checkpoint(path):
    """A skeleton model like the base one with one more label, as ``fusion.teach`` writes it."""
    torch.manual_seed(2)
    model = randomise(build_model(tiny_model_config(num_classes=len(DEFAULT_LABELS) + 1, **SKELETON)).eval(), seed=2)
    save_checkpoint(path, model, labels=DEFAULT_LABELS + ("wave",), training={"note": "taught"})
    return path


def run_with_a_swap(tmp_path, other, *, frames=90, swap_after_s=1.0):
    base = tiny_checkpoint(tmp_path / "base.pt", **SKELETON)
    recording = write_moving(tmp_path / "take.mmtm", n=frames)
    seen = []  # (frame, labels the result was decided with)
    engine = Engine(EngineConfig(source=str(recording), runner=RunnerConfig(model=str(base), device="cpu", threads=1),
                                 realtime=True),  # paced at 30 fps, as a live camera
                    out=io.StringIO(), on_decision=lambda result, times, events: seen.append(result))
    engine.start()
    try:
        time.sleep(swap_after_s)
        source = engine._feed.source
        engine.swap_model(str(other))
        deadline = time.monotonic() + 15
        while not engine._feed.source.finished.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        summary = engine.finish()
    finally:
        engine.shutdown()
    return engine, source, seen, summary


def test_a_taught_model_takes_over_at_the_next_frame_without_a_skip_or_a_restart(tmp_path):
    engine, source, seen, summary = run_with_a_swap(tmp_path, taught_checkpoint(tmp_path / "taught.pt"))
    assert engine._feed.source is source  # the same source thread: capture never restarted
    assert summary["skipped"] == 0 and summary["decisions"] == summary["frame_sets"] == 90
    widths = [len(r.logits) for r in seen]
    swapped = widths.index(len(DEFAULT_LABELS) + 1)
    assert 10 < swapped < 80  # mid-replay
    assert set(widths[:swapped]) == {len(DEFAULT_LABELS)} and set(widths[swapped:]) == {len(DEFAULT_LABELS) + 1}
    assert engine._feed.runner.labels[-1] == "wave" and engine._feed.recognizer.labels[-1] == "wave"
    assert [r.frame for r in seen] == sorted(r.frame for r in seen)  # in order, none lost


def test_a_model_that_reads_other_inputs_restarts_the_source_instead(tmp_path):
    fused = tiny_checkpoint(tmp_path / "fused.pt")  # rgb+depth+skeleton
    engine, source, seen, summary = run_with_a_swap(tmp_path, fused)
    assert engine._feed.source is not source  # reopened for the new model
    assert engine._feed.runner.modalities == ("rgb", "depth", "skeleton")
