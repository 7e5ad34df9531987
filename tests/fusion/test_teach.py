"""Teaching a skeleton model a user's takes (fusion.teach) and the headless ``teach`` command."""

import json

import numpy as np
import pytest
import torch

import main
from fusion.checkpoint import load_checkpoint, read_checkpoint
from fusion.data.recording import RecordingWriter
from fusion.data.recording.clips import recording_clips
from fusion.data.sample import Skeleton
from fusion.data.synthetic.world import SynthConfig, make_clip
from fusion.labels import DEFAULT_LABELS
from fusion.teach import FRAME_STAGES, TEMPORAL_LAYERS, NewGestures, TeachConfig, teach
from fusion.train import predict
from tests.app.engine_fixtures import tiny_checkpoint

PERIOD = 33_333_333


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return str(tiny_checkpoint(tmp_path_factory.mktemp("base") / "skeleton.pt", fusion="none",
                               modalities=("skeleton",)))


def write_takes(path, label, motion, *, takes=5, seed=0):
    """A recording as `record --labels prompt` makes it: ``takes`` takes of the synthetic ``motion``
    (skeletons only) labelled ``label``, with the hand's first pose held between them (no gesture)."""
    config = SynthConfig(labels=(motion,), render=False, frames=24)
    with RecordingWriter(path, meta={"device": {"name": "test"}}) as rec:
        rec.set_stream("skeleton", {"width": 160, "height": 120, "fps": 30.0})
        i = 0
        for k in range(takes):
            clip = make_clip(seed, k, config)
            rest = [clip.skeleton[0]] * 20
            frames = rest + list(clip.skeleton) + rest
            start = i + len(rest)
            for xyz in frames:
                rec.write("skeleton", Skeleton(np.asarray(xyz, np.float32)), index=i, host_ns=10**9 + i * PERIOD)
                i += 1
            rec.add_label(label, start_ns=10**9 + start * PERIOD, end_ns=10**9 + (start + 24) * PERIOD)
    return path


def test_a_new_gesture_is_taught_and_the_old_labels_kept(tmp_path, base):
    recording = write_takes(tmp_path / "wave.mmtm", "wave_hello", "rotate_cw")
    meta, _ = read_checkpoint(base)
    labels = tuple(meta.labels) + ("wave_hello",)
    takes = recording_clips([recording], labels=labels, spec=meta.config.input)
    out = tmp_path / "personal.pt"
    # the tiny base has learnt next to nothing: its stages are trained here too, not kept
    lines = []
    report = teach(TeachConfig(model=base, out=str(out), epochs=20, lr=3e-3, replay=34, held_back=17, folds=0,
                               freeze_stages=False, head_only_when_new=False, new=None), takes, log=lines.append)
    assert "fine-tuning: epoch 20 of 20" in lines  # the full training loop reports its epochs too
    assert report.labels == DEFAULT_LABELS + ("wave_hello",) and report.new_labels == ("wave_hello",)
    assert report.taught == {"wave_hello": 5} and report.seconds > 0 and report.frozen == ()
    assert 0.0 <= report.old_top1 <= 1.0 and 0.0 <= report.base_old_top1 <= 1.0
    model, personal = load_checkpoint(out)
    assert tuple(personal.labels) == report.labels and personal.config.num_classes == len(DEFAULT_LABELS) + 1
    wave = takes.subset(np.flatnonzero(takes.label == labels.index("wave_hello")))
    called, _ = predict(model, wave, np.arange(len(wave)), ("skeleton",))
    assert np.mean(called == labels.index("wave_hello")) >= 0.8  # its own takes, learnt


def test_the_check_estimates_each_taught_gesture_from_held_out_takes(tmp_path, base):
    recording = write_takes(tmp_path / "wave.mmtm", "wave_hello", "rotate_cw", takes=4)
    meta, _ = read_checkpoint(base)
    takes = recording_clips([recording], labels=tuple(meta.labels) + ("wave_hello",), spec=meta.config.input)
    report = teach(TeachConfig(model=base, out=str(tmp_path / "p.pt"), epochs=2, replay=17, held_back=0, folds=2,
                               new=None), takes)
    assert set(report.estimate) == {"wave_hello"} and 0.0 <= report.estimate["wave_hello"] <= 1.0
    assert report.old_top1 is None  # nothing held back, nothing claimed
    assert report.frozen == (FRAME_STAGES, TEMPORAL_LAYERS)  # every gesture taught is new: the classifier alone
    assert_learnt(base, tmp_path / "p.pt", kept=("streams.skeleton.stages.", "streams.skeleton.temporal.layers."),
                  learnt=("streams.skeleton.temporal.fc.weight",))


def assert_learnt(base, personal, *, kept, learnt):
    """The personal model's weights under the ``kept`` prefixes are the base's, each of ``learnt`` moved."""
    _, before = read_checkpoint(base)
    _, after = read_checkpoint(str(personal))
    same = [k for k in before if k.startswith(kept)]
    assert same and all(torch.equal(after[k], before[k]) for k in same)
    for k in learnt:
        assert not torch.equal(after[k][:before[k].shape[0]], before[k])


def test_a_known_gesture_taught_moves_the_temporal_layers_too(tmp_path, base):
    recording = write_takes(tmp_path / "cw.mmtm", "rotate_cw", "rotate_ccw", takes=3)
    meta, _ = read_checkpoint(base)
    takes = recording_clips([recording], labels=tuple(meta.labels), spec=meta.config.input)
    report = teach(TeachConfig(model=base, out=str(tmp_path / "p.pt"), epochs=2, replay=17, check=False), takes)
    assert report.new_labels == () and report.frozen == (FRAME_STAGES,)  # freeze_stages, the default
    assert_learnt(base, tmp_path / "p.pt", kept=("streams.skeleton.stages.",),
                  learnt=("streams.skeleton.temporal.layers.0.conv.weight", "streams.skeleton.temporal.fc.weight"))


@pytest.mark.parametrize("label, motion, recipe", [("wave_hello", "rotate_cw", (2e-4, 5.0)),  # new: classifier alone
                                                   ("rotate_cw", "rotate_ccw", (3e-3, 40.0))])  # known
def test_the_classifier_alone_learns_at_its_own_rate_and_turns(tmp_path, base, monkeypatch, label, motion, recipe):
    import fusion.take_augment
    import fusion.teach

    seen = []
    varied = fusion.take_augment.varied_copies
    fine_tune = fusion.teach._fine_tune
    monkeypatch.setattr(fusion.take_augment, "varied_copies",
                        lambda *a, turn_deg, **k: seen.append(("turn", turn_deg)) or varied(*a, turn_deg=turn_deg, **k))
    monkeypatch.setattr(fusion.teach, "_fine_tune",
                        lambda config, *a, **k: seen.append(("lr", config.lr)) or fine_tune(config, *a, **k))
    recording = write_takes(tmp_path / "t.mmtm", label, motion, takes=2)
    meta, _ = read_checkpoint(base)
    takes = recording_clips([recording], labels=tuple(meta.labels) + (label,) * (label not in meta.labels),
                            spec=meta.config.input)
    teach(TeachConfig(model=base, out=str(tmp_path / "p.pt"), epochs=1, replay=17, check=False, lr=3e-3,
                      turn_deg=40.0, head_lr=2e-4, head_turn_deg=5.0, new=None), takes)
    assert seen == [("turn", recipe[1]), ("lr", recipe[0])]


def test_the_teach_command_writes_the_model_and_reports(tmp_path, base, capsys):
    (tmp_path / "takes").mkdir()
    write_takes(tmp_path / "takes" / "a.mmtm", "wave_hello", "rotate_cw", takes=3)
    code = main.main(["teach", "--takes", str(tmp_path / "takes"), "--out", str(tmp_path / "me.pt"), "--model", base,
                      "--epochs", "2", "--no-check", "--json", "--classifier-only"])
    assert code == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert captured.err.splitlines()[0].startswith("teach: drawing ") and "teach: fine-tuning on" in captured.err
    assert report["taught"] == {"wave_hello": 3} and report["new_labels"] == ["wave_hello"]
    assert report["estimate"] == {} and report["old_top1"] is None
    assert report["frozen"] == [FRAME_STAGES, TEMPORAL_LAYERS]
    assert read_checkpoint(tmp_path / "me.pt")[0].labels[-1] == "wave_hello"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["me.pt", "takes"]  # the model alone, no training state
    code = main.main(["teach", "--takes", str(tmp_path / "takes"), "--out", str(tmp_path / "me2.pt"), "--model", base,
                      "--epochs", "1", "--no-check", "--classifier-only"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0].startswith("taught wave_hello (3 takes, new) in ")
    assert lines[1] == "every gesture taught is new: only the classifier learnt, the others are seen as before"


@pytest.mark.parametrize("case", ["no recordings", "fused model", "no skeletons"])
def test_bad_teach_input_is_one_line_and_exit_2(tmp_path, base, capsys, case):
    takes = tmp_path / "takes"
    takes.mkdir()
    model = base
    if case == "fused model":
        write_takes(takes / "a.mmtm", "wave_hello", "rotate_cw", takes=1)
        model = str(tiny_checkpoint(tmp_path / "fused.pt"))
    if case == "no skeletons":  # a depth camera's recording without the hand tracked
        with RecordingWriter(takes / "a.mmtm", meta={"device": {"name": "test"}}) as rec:
            rec.set_stream("depth", {"width": 32, "height": 24, "fps": 30.0, "depth_scale": 0.001})
            for i in range(40):
                rec.write("depth", np.full((24, 32), 600 + i, np.uint16), index=i, host_ns=10**9 + i * PERIOD)
            rec.add_label("wave_hello", start_ns=10**9 + 5 * PERIOD, end_ns=10**9 + 30 * PERIOD)
    code = main.main(["teach", "--takes", str(takes), "--out", str(tmp_path / "me.pt"), "--model", model])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    expected = {"no recordings": "no .mmtm recordings", "fused model": "teach fine-tunes skeleton models",
                "no skeletons": "the takes hold no hand skeletons"}[case]
    assert expected in err
    assert not (tmp_path / "me.pt").exists()


@pytest.mark.parametrize("changes", [{"turn_deg": -1.0}, {"turn_deg": 270.0}, {"head_turn_deg": -5.0},
                                     {"full_takes": 0}, {"head_lr": 0.0}, {"speed": (0.0, 1.5)},
                                     {"speed": (1.5, 0.67)}, {"epochs": 0}, {"replay": -1}, {"view_deg": 90.0},
                                     {"view_deg": -1.0}, {"fingers": 1.0}, {"feature_views": -1},
                                     {"new": NewGestures(false_calls=0.5)}, {"new": NewGestures(calibration=-1)},
                                     {"new": NewGestures(confusable=-1)}, {"new": NewGestures(view_deg=81.0)},
                                     {"new": NewGestures(epochs=0)}])
def test_teach_settings_out_of_range_are_bad_input(changes):
    from fusion.errors import BadInput

    with pytest.raises(BadInput, match="teach needs"):
        TeachConfig(model="m.pt", out="o.pt", **changes).validate()
    TeachConfig(model="m.pt", out="o.pt").validate()  # the defaults are fine


def test_new_gestures_are_taught_by_their_recipe_to_a_false_call_budget(tmp_path, base):
    from fusion.teach import _logits, skeleton_world_clips

    recording = write_takes(tmp_path / "wave.mmtm", "wave_hello", "rotate_cw", takes=3)
    meta, _ = read_checkpoint(base)
    labels = tuple(meta.labels) + ("wave_hello",)
    takes = recording_clips([recording], labels=labels, spec=meta.config.input)
    new = NewGestures(epochs=2, repeat=4, replay=34, confusable=17, calibration=68, false_calls=0.05)
    lines = []
    report = teach(TeachConfig(model=base, out=str(tmp_path / "p.pt"), new=new, check=False, seed=1), takes,
                   log=lines.append)
    assert report.recipe == "new gestures" and report.frozen == (FRAME_STAGES,)  # the temporal layers learn
    assert "drawing 34 synthetic clips" in lines[0] and "drawing 17 more of the gestures" in lines[1]
    assert lines[-2:] == ["fine-tuning: epoch 1 of 2", "fine-tuning: epoch 2 of 2"]  # the panel shows the last
    model, personal = load_checkpoint(tmp_path / "p.pt")
    calibrated = personal.training["calibrated"]
    assert calibrated["share"] == 0.05 and calibrated["clips"] == 68 and set(calibrated["shifts"]) == {"wave_hello"}
    # the calibration clips (the same draw) are called the new gesture at the budget's share
    same = skeleton_world_clips(meta.labels, meta.config.input, 68, seed=1 * 7 + 303, labels=labels)
    called = _logits(model, same).argmax(1)
    assert abs(np.mean(called == labels.index("wave_hello")) - 0.05) <= 1.5 / 68


def test_the_personal_model_keeps_the_base_model_s_recogniser_settings(tmp_path, base):
    from fusion.checkpoint import save_checkpoint

    model, meta = load_checkpoint(base)
    tuned = {"start_threshold": 0.7, "cooldown_s": 1.5, "static_start_threshold": 0.5}
    save_checkpoint(tmp_path / "tuned.pt", model, labels=meta.labels, training={"online": tuned})
    recording = write_takes(tmp_path / "cw.mmtm", "rotate_cw", "rotate_ccw", takes=2)
    takes = recording_clips([recording], labels=tuple(meta.labels), spec=meta.config.input)
    teach(TeachConfig(model=str(tmp_path / "tuned.pt"), out=str(tmp_path / "p.pt"), epochs=1, replay=17,
                      check=False), takes)
    assert read_checkpoint(tmp_path / "p.pt")[0].training["online"] == tuned
