"""Gesture tables are checked against the labels of the model that will run, new labels included."""

import json
from dataclasses import replace

import pytest
import torch

from app.actions import ActionDispatcher, load_actions
from app.model_runner import ModelRunner, RunnerConfig
from fusion.errors import BadInput
from fusion.labels import DEFAULT_LABELS
from fusion.online import GestureEvent
from fusion.train import TrainConfig, train
from tests.app.actions.action_fixtures import config
from tests.app.engine_fixtures import tiny_checkpoint
from tests.fusion.train_data import SPEC, separable_clips


def test_labels_are_the_models():
    cfg = config("[gestures.wave]\n[gestures.clap]\nenabled = false\n", labels=("wave", "clap"))
    assert [r.label for r in cfg.gestures] == ["wave", "clap"] and not cfg.rule("clap").enabled
    with pytest.raises(BadInput) as info:
        config("[gestures.fist]\n", labels=("wave", "clap"))
    assert str(info.value) == "test.toml: gestures.fist: the model has no label 'fist'; its labels are wave, clap"
    with pytest.raises(TypeError, match="not one string"):
        config("[gestures.wave]\n", labels="wave")


def test_no_gesture_may_have_a_table_when_the_model_has_it():
    assert config("[gestures.no_gesture]\nenabled = false\n").rule("no_gesture").enabled is False
    with pytest.raises(BadInput, match="gestures.no_gesture: the model has no label"):
        config("[gestures.no_gesture]\n", labels=("wave",))


@pytest.fixture
def fine_tuned(tmp_path):
    """A tiny default-label model fine-tuned (on one thread) on clips that bring the new label "wave"."""
    base = tiny_checkpoint(tmp_path / "base.pt", input=SPEC)
    clips = separable_clips(n=8)
    clips = replace(clips, labels=("no_gesture", "fist", "wave"))  # the third class is the new gesture
    out = tmp_path / "wave.pt"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(TrainConfig(data=str(tmp_path), out=str(out), finetune=str(base), epochs=1, batch=4, lr=1e-3,
                          val_fraction=0.0, progress=False, device="cpu", max_steps_per_epoch=1), clips=clips)
    finally:
        torch.set_num_threads(threads)
    return base, out


def test_a_fine_tuned_models_new_label_can_act(fine_tuned, tmp_path):
    base, tuned = fine_tuned
    threads = torch.get_num_threads()
    runner = ModelRunner.load(RunnerConfig(model=str(tuned), device="cpu", backend="eager", warmup=0, threads=threads))
    assert runner.labels == DEFAULT_LABELS + ("wave",)
    log = tmp_path / "events.jsonl"
    toml = tmp_path / "actions.toml"
    toml.write_text(f'[gestures.wave]\nmin_score = 0.6\nactions = [{{ kind = "jsonl", path = {json.dumps(str(log))} }}]\n')

    old = ModelRunner.load(RunnerConfig(model=str(base), device="cpu", backend="eager", warmup=0, threads=threads))
    with pytest.raises(BadInput) as info:  # the model before fine-tuning has no "wave"
        load_actions(toml, labels=old.labels)
    assert str(info.value) == (f"{toml}: gestures.wave: the model has no label 'wave'; "
                               f"its labels are {', '.join(DEFAULT_LABELS)}")

    event = GestureEvent(label="wave", score=0.8125, t=2.5, start=2.0, end=2.5, early=False)
    with ActionDispatcher(load_actions(toml, labels=runner.labels)) as dispatcher:
        assert dispatcher.handle(replace(event, score=0.5)) == ["skip wave: score 0.500 < min_score 0.6"]
        assert dispatcher.handle(event) == [f"jsonl {log}"]
    assert [json.loads(line) for line in log.read_text().splitlines()] == [
        {"type": "gesture", "label": "wave", "score": 0.8125, "t": 2.5, "start": 2.0, "end": 2.5, "early": False}]
