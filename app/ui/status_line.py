"""The status bar's permanent part: source (ended, paused), model, recording state."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtWidgets import QLabel, QStatusBar

from app.snapshot import Snapshot


class StatusLine:
    """Three labels at the right of a status bar, set from each snapshot."""

    def __init__(self, status_bar: QStatusBar) -> None:
        self.source_label = QLabel("source: —")
        self.model_label = QLabel("model: —")
        self.recording_label = QLabel("not recording")
        self.recording_label.setObjectName("recordingLabel")
        for label in (self.source_label, self.model_label, self.recording_label):
            status_bar.addPermanentWidget(label)

    def show(self, s: Snapshot) -> None:
        source = s.source or "—"
        self.source_label.setText(f"source: {source}" + ("  (ended)" if s.finished else "")
                                  + ("  (paused)" if s.paused else ""))
        self.model_label.setText(f"model: {s.model or '—'}")
        self.recording_label.setText(f"● recording {Path(s.recording).name}" if s.recording else "not recording")
        recording = s.recording is not None
        if self.recording_label.property("recording") != recording:  # the theme colours it
            self.recording_label.setProperty("recording", recording)
            self.recording_label.style().unpolish(self.recording_label)
            self.recording_label.style().polish(self.recording_label)
