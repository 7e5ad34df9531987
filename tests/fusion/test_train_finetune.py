"""Teach it your gestures: fine-tune a model on own .mmtm recordings that bring a new label."""

import numpy as np
import pytest
import torch

from fusion.checkpoint import read_checkpoint
from fusion.data.recording import RecordingWriter
from fusion.data.recording.clips import recording_clips
from fusion.data.sample import Skeleton
from fusion.data.synthetic.world import SynthConfig, make_stream
from fusion.errors import BadInput
from fusion.train import train
from fusion.train_config import TrainConfig
from tests.fusion.train_data import LABELS, SPEC, TINY, one_thread, separable_clips  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("one_thread")  # torch on one thread in every test here


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A tiny recording (32x24) with three gestures; the first is relabelled as the new "my_wave"."""
    s = make_stream(4, 0, SynthConfig(width=32, height=24, stream_gestures=3, labels=LABELS))
    path = tmp_path_factory.mktemp("rec") / "take.mmtm"
    step = int(1e9 / s.fps)
    with RecordingWriter(path) as rec:
        rec.set_stream("depth", {"width": 32, "height": 24, "fps": s.fps, "depth_scale": s.depth_scale})
        for t in range(len(s.rgb)):
            rec.write("color", s.rgb[t], index=t, host_ns=t * step)
            rec.write("depth", s.depth[t], index=t, host_ns=t * step)
            rec.write("skeleton", Skeleton(image=s.skeleton[t], handedness=s.handedness) if s.presence[t] else None,
                      index=t, host_ns=t * step)
        for k, (label, a, b) in enumerate(s.segments):
            rec.add_label("my_wave" if k == 0 else label, start_ns=a * step, end_ns=b * step)
    return path, s


def test_recording_clips_one_per_gesture_plus_gaps(recording):
    path, s = recording
    labels = LABELS + ("my_wave",)
    clips = recording_clips([path], labels=labels, spec=SPEC, frames=16)
    names = [labels[i] for i in clips.label]
    assert names[:3] == ["my_wave", s.segments[1][0], s.segments[2][0]]
    assert set(names[3:]) <= {"no_gesture"} and len(names) > 3
    assert clips.rgb.shape[1:] == (16, 24, 32, 3) and clips.missing == ()
    a, b = clips.active[0]
    assert 0 <= a < b <= 16


def test_finetune_adds_the_new_label_and_keeps_the_old_outputs(recording, tmp_path):
    path, _ = recording
    base = TrainConfig(data=str(tmp_path), out=str(tmp_path / "base.pt"), model=TINY, epochs=1, batch=8, lr=1e-2,
                       augment=None, val_fraction=0.0, progress=False, max_steps_per_epoch=2)
    train(base, clips=separable_clips())
    grown = TrainConfig(data=str(path), out=str(tmp_path / "grown.pt"), finetune=base.out, epochs=0, batch=4,
                        val_fraction=0.0, progress=False)
    train(grown)
    meta0, s0 = read_checkpoint(base.out)
    meta1, s1 = read_checkpoint(grown.out)
    assert meta1.labels == LABELS + ("my_wave",) and meta1.config.num_classes == 4
    for k, v in s0.items():
        if s1[k].shape == v.shape:
            assert torch.equal(s1[k], v), k
        else:  # an output layer: the old classes' rows are kept
            assert torch.equal(s1[k][:3], v), k
    tuned = TrainConfig(data=str(path), out=str(tmp_path / "tuned.pt"), finetune=base.out, epochs=2, batch=4,
                        lr=1e-3, val_fraction=0.0, progress=False)
    summary = train(tuned)
    assert np.isfinite(summary["history"]["train_loss"]).all()
    assert read_checkpoint(tuned.out)[0].training["data"]["kind"] == "recordings"


def test_frozen_modules_keep_their_weights_and_statistics(tmp_path):
    base = TrainConfig(data="d", out=str(tmp_path / "base.pt"), model=TINY, epochs=1, batch=8, lr=1e-2,
                       augment=None, val_fraction=0.0, progress=False, max_steps_per_epoch=2)
    train(base, clips=separable_clips())
    tuned = TrainConfig(data="d", out=str(tmp_path / "tuned.pt"), finetune=base.out, epochs=2, batch=8, lr=1e-2,
                        val_fraction=0.0, progress=False, max_steps_per_epoch=3, freeze=("streams.skeleton.stages",))
    train(tuned, clips=separable_clips())
    _, before = read_checkpoint(base.out)
    meta, after = read_checkpoint(tuned.out)
    stages = [k for k in before if k.startswith("streams.skeleton.stages.")]
    assert any(k.endswith("running_mean") for k in stages)  # the statistics are among them
    for k in stages:
        assert torch.equal(after[k], before[k]), k
    assert not torch.equal(after["streams.skeleton.temporal.fc.weight"], before["streams.skeleton.temporal.fc.weight"])
    assert meta.training["recipe"]["freeze"] == ["streams.skeleton.stages"] and meta.training["recipe"]["distill"] == 0.0


def test_freezing_needs_a_model_to_finetune_and_a_module_it_has(tmp_path):
    with pytest.raises(BadInput, match="--finetune"):
        TrainConfig(data="d", out="o.pt", freeze=("streams.skeleton.stages",)).validate()
    base = TrainConfig(data="d", out=str(tmp_path / "base.pt"), model=TINY, epochs=0, batch=8,
                       val_fraction=0.0, progress=False)
    train(base, clips=separable_clips())
    bad = TrainConfig(data="d", out=str(tmp_path / "x.pt"), finetune=base.out, epochs=1, batch=8,
                      val_fraction=0.0, progress=False, freeze=("streams.rgb.stages",))
    with pytest.raises(BadInput, match="no such module"):
        train(bad, clips=separable_clips())


def test_distillation_counts_only_the_clips_of_the_kept_labels():
    from fusion.train import _distill_loss, _Teacher

    class Fixed(torch.nn.Module):
        def __init__(self, logits):
            super().__init__()
            self.logits = logits

        def forward(self, x, present=None):
            return type("Out", (), {"logits": self.logits})()

    old = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    teacher = _Teacher(Fixed(old), keep=torch.tensor([True, False, True, False]))  # labels 0 and 2 taught by it
    labels = torch.tensor([0, 1])
    same = torch.cat([old, torch.zeros(2, 1)], dim=1)  # the student adds a fourth (new) label
    assert float(_distill_loss(same, teacher, {}, None, labels)) == pytest.approx(0.0, abs=1e-6)
    moved = same.clone()
    moved[0, :3] = torch.tensor([-1.0, 0.0, 2.0])
    assert float(_distill_loss(moved, teacher, {}, None, labels)) > 0.1
    moved_other = same.clone()
    moved_other[1, :3] = torch.tensor([5.0, -5.0, 0.0])  # a clip of label 1, which it does not teach
    assert float(_distill_loss(moved_other, teacher, {}, None, labels)) == pytest.approx(0.0, abs=1e-6)
    assert float(_distill_loss(moved, teacher, {}, None, torch.tensor([1, 3]))) == 0.0  # none taught


def test_distillation_keeps_a_finetuned_model_nearer_its_old_answers(tmp_path):
    from fusion.checkpoint import load_checkpoint

    base = TrainConfig(data="d", out=str(tmp_path / "base.pt"), model=TINY, epochs=3, batch=8, lr=1e-2,
                       augment=None, val_fraction=0.0, progress=False)
    clips = separable_clips()
    train(base, clips=clips)
    swapped = clips.relabel(LABELS)
    swapped.label[:] = (clips.label + 1) % len(LABELS)  # labels that contradict what it learnt
    x, _ = clips.batch(np.arange(len(clips)), ("skeleton",))

    def answers(path):
        with torch.no_grad():
            return torch.softmax(load_checkpoint(path)[0](x).logits, dim=1)

    moved = {}
    for weight in (0.0, 5.0):
        out = str(tmp_path / f"d{weight}.pt")
        train(TrainConfig(data="d", out=out, finetune=base.out, epochs=2, batch=8, lr=1e-2, augment=None,
                          val_fraction=0.0, progress=False, distill=weight, distill_labels=LABELS), clips=swapped)
        moved[weight] = float((answers(out) - answers(base.out)).abs().sum(dim=1).mean())
    assert moved[5.0] < 0.7 * moved[0.0]
    with pytest.raises(BadInput, match="--finetune"):
        TrainConfig(data="d", out="o.pt", distill=1.0).validate()
