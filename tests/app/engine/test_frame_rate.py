"""The engine steps the model at the model's own rate: the same clip from a camera at 15, 25, 30
or 60 fps gives the same model steps and the same gesture events (fusion.resample)."""

import io
import json

import numpy as np
import pytest

from app.engine import Engine, EngineConfig
from app.inference_worker import WorkerConfig
from app.model_runner import SKELETON_MODEL, RunnerConfig
from fusion.data.recording import RecordingWriter
from fusion.data.sample import Skeleton
from fusion.data.synthetic import world
from fusion.metrics import levenshtein

T0 = 10**9
RATES = (15.0, 25.0, 30.0, 60.0)


def _stream():
    """A continuous skeleton stream of the synthetic world at 30 fps: landmarks (T, 21, 3), presence (T,)."""
    stream = world.make_stream(4, 0, world.SynthConfig(render=False, stream_gestures=4))
    return stream.skeleton, stream.presence, stream.segments


def _seen_at(rate: float, skeleton: np.ndarray, presence: np.ndarray):
    """The 30 fps landmarks as a camera at ``rate`` sees them: (times s, landmarks or None)."""
    n = len(skeleton)
    out = []
    for t in np.arange(0.0, (n - 1) / 30.0, 1.0 / rate):
        k = min(int(t * 30.0), n - 2)
        w = t * 30.0 - k
        if presence[k] and presence[k + 1]:
            out.append((t, skeleton[k] * (1 - w) + skeleton[k + 1] * w))
        else:
            near = k if w < 0.5 else k + 1
            out.append((t, skeleton[near] if presence[near] else None))
    return out


def _record(path, rate: float, frames) -> str:
    with RecordingWriter(path, meta={"device": {"name": f"camera at {rate} fps"}}) as rec:
        rec.set_stream("skeleton", {"width": 160, "height": 120, "fps": rate})
        for i, (t, hand) in enumerate(frames):
            rec.write("skeleton", None if hand is None else Skeleton(hand.astype(np.float32)), index=i,
                      host_ns=T0 + int(round(t * 1e9)))
    return str(path)


def _replay(path: str, model: str):
    out = io.StringIO()
    decisions = []
    engine = Engine(EngineConfig(source=path, runner=RunnerConfig(model=model, backend="eager"), deterministic=True,
                                 worker=WorkerConfig(deterministic=True)), out=out,
                    on_decision=lambda result, times, events: decisions.append((result.t, result.logits.copy())))
    engine.run()
    events = [e for e in map(json.loads, out.getvalue().splitlines()) if e["type"] == "gesture"]
    return decisions, events


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    skeleton, presence, _ = _stream()
    folder = tmp_path_factory.mktemp("rates")
    return {rate: _record(folder / f"at-{int(rate)}.mmtm", rate, _seen_at(rate, skeleton, presence)) for rate in RATES}


def test_every_camera_rate_gives_one_step_each_thirtieth_of_a_second(recordings):
    reference, _ = _replay(recordings[30.0], "untrained-skeleton")
    ticks = np.array([t for t, _ in reference])
    np.testing.assert_allclose(np.diff(ticks), 1 / 30, atol=1e-6)  # one step per frame at the model's rate
    logits = {int(round(t * 30)): x for t, x in reference}  # tick number → the model's output
    for rate in (15.0, 25.0, 60.0):
        decisions, _ = _replay(recordings[rate], "untrained-skeleton")
        times = np.array([t for t, _ in decisions])
        assert abs(len(decisions) - len(reference)) <= 1, (rate, len(decisions), len(reference))
        np.testing.assert_allclose(np.diff(times), 1 / 30, atol=1e-6)
        # the same steps: the model's outputs at the same ticks agree (the hand interpolated in between)
        common = [(x, logits[int(round(t * 30))]) for t, x in decisions if int(round(t * 30)) in logits]
        assert len(common) >= len(reference) - 2
        gap = max(float(np.abs(a - b).max()) for a, b in common)
        spread = float(np.ptp(np.stack([b for _, b in common])))
        assert gap < 0.1 * spread, (rate, gap, spread)


STREAMS = (4, 5, 6, 7)  # synthetic streams (seeds) for the shipped model


@pytest.mark.skipif(not SKELETON_MODEL.is_file(), reason="the shipped skeleton model is missing")
def test_the_same_streams_at_15_25_30_and_60_fps_give_the_same_events(tmp_path):
    """The shipped model's calls at every rate are those at 30 fps, at the same times, on most streams.

    Not on every stream: a 15 or 25 fps camera samples a fast swipe at other moments, and where the
    model's score sits near its opening threshold (0.70-0.76 in the cases seen) a call comes or
    goes, and the cooldown after it moves the next call. So: the same calls at every rate on 3 of
    the 4 streams (run 16's model: 6 of 8 streams, run 13's 7 of 8), and never more than one call
    apart on any. "The same times": within two frames of a 15 fps camera (a call is given with the
    frame that brings it, and the interpolated hand may cross the threshold a step later)."""
    same_everywhere = 0
    for seed in STREAMS:
        stream = world.make_stream(seed, 0, world.SynthConfig(render=False, stream_gestures=4))
        called = {}
        for rate in RATES:
            path = _record(tmp_path / f"{seed}-at-{int(rate)}.mmtm", rate, _seen_at(rate, stream.skeleton,
                                                                                      stream.presence))
            called[rate] = [(e["label"], e["t"]) for e in _replay(path, str(SKELETON_MODEL))[1]]
        reference = called[30.0]
        assert reference, f"the shipped model recognised nothing in synthetic stream {seed}"
        labels = {rate: [label for label, _ in events] for rate, events in called.items()}
        for rate in RATES:
            assert levenshtein(labels[rate], labels[30.0]) <= 1, (seed, rate, called[rate], reference)
        same_everywhere += all(
            labels[rate] == labels[30.0]
            and all(abs(t - r) <= 2 / 15 + 1e-3 for (_, t), (_, r) in zip(called[rate], reference))
            for rate in RATES)
    assert same_everywhere >= len(STREAMS) - 1, same_everywhere
