"""A fake engine whose recordings are real takes, and a screenshot of the Teach panel after a training.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.app.ui.teach_screenshot --out docs/images/teach_panel.png

Five takes of a new gesture ("wave") and one of nothing, recorded through the panel from the fake
engine (a synthetic hand rotating, or holding still), taught to the shipped webcam model, checked;
the first take played back; then the panel is saved as a PNG.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from fusion.data.recording import RecordingWriter
from fusion.data.sample import Skeleton
from fusion.data.synthetic.world import SynthConfig, make_clip
from fusion.labels import NO_GESTURE
from tests.app.ui.fake_engine import FakeEngine

PERIOD = 33_333_333


class RecordingFakeEngine(FakeEngine):
    """A fake engine whose recordings are real files: each take a synthetic hand doing a rotation
    (or holding still, for no_gesture), labelled with the prompted gesture."""

    def start_recording(self, path, prompt_gestures=()):
        super().start_recording(path, prompt_gestures)
        self._take = (path, prompt_gestures[0] if prompt_gestures else NO_GESTURE)

    def stop_recording(self):
        super().stop_recording()
        path, label = self._take
        clip = make_clip(len(self.calls), 0, SynthConfig(labels=("rotate_cw",), render=False, frames=24))
        frames = list(clip.skeleton) if label != NO_GESTURE else [clip.skeleton[0]] * 24
        with RecordingWriter(path, meta={"device": {"name": "fake"}}) as rec:
            rec.set_stream("skeleton", {"width": 160, "height": 120, "fps": 30.0})
            for i, xyz in enumerate(frames):
                rec.write("skeleton", Skeleton(np.asarray(xyz, np.float32)), index=i, host_ns=10**9 + i * PERIOD)
            rec.add_label(label, start_ns=10**9, end_ns=10**9 + len(frames) * PERIOD)


def main(argv: list[str] | None = None) -> int:
    from PyQt6.QtCore import QEventLoop, QTimer
    from PyQt6.QtWidgets import QApplication

    from app.ui.teach_panel import TeachPanel, teach_base
    from app.ui.theme import apply_theme

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--data", default=None, help="the user data folder to use (default: a temporary one)")
    args = parser.parse_args(argv)
    import tempfile
    from pathlib import Path

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    engine = RecordingFakeEngine()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="mmtm-data-"))
    panel = TeachPanel(engine, labels=("no_gesture", "thumbs_up", "fist", "open_palm"), base_model=teach_base(""),
                       data_dir=data, countdown_s=0, take_s=0.05)
    panel.resize(760, 560)
    panel.show()
    loop = QEventLoop()

    def wait(done, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000
        timer = QTimer()
        timer.timeout.connect(lambda: loop.quit() if done() or time.monotonic() > deadline else None)
        timer.start(50)
        loop.exec()
        timer.stop()

    panel.gesture.setEditText("wave")
    panel.record_takes("wave", 5)
    wait(lambda: len(panel.takes) == 5 and not panel._plan, 20_000)
    panel.record_takes(NO_GESTURE, 1)
    wait(lambda: len(panel.takes) == 6 and not panel._plan, 20_000)
    panel.train()
    wait(lambda: panel.model is not None or panel._process is None, 300_000)
    panel.take_list.item(0).setSelected(True)
    panel.play_selected()
    wait(lambda: not panel.player.playing, 10_000)
    panel.grab().save(args.out)
    print(args.out, panel.result.text())
    ok = panel.model is not None
    panel.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
