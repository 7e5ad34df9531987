"""The window's recording: the primary source's samples into a ``.mmtm`` file, with label prompts."""

from __future__ import annotations

from typing import Callable, Mapping

from app.sources.base import now_ns
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput


class PromptedRecording:
    """At most one recording at a time. With prompt gestures, each is asked for ``prompt_s`` seconds
    in turn and stored as a label segment of that span. ``push`` runs on the source thread.

    A recording that fails (a full disk, a removed drive) ends at once, finalised as far as the disk
    allowed, and its one-line reason goes to ``on_error`` (the engine shows it in the window)."""

    def __init__(self, *, prompt_s: float = 2.0, on_error: Callable[[str], None] = lambda line: None) -> None:
        self.prompt_s = prompt_s
        self.on_error = on_error
        self._recorder = None
        self._path: str | None = None
        self._prompts: tuple[str, ...] = ()
        self._prompt_start = 0
        self._prompt_done = 0

    def start(self, path: str, stream_info: Mapping[str, StreamInfo], prompts: tuple[str, ...] = ()) -> None:
        """Stop the current recording, if any, and record to ``path`` (BadInput, OSError on a bad path)."""
        from app.recorder import Recorder, RecorderConfig

        self.stop()
        recorder = Recorder(RecorderConfig(path=path), stream_info=stream_info)
        recorder.start()
        self._prompts = tuple(prompts)
        self._prompt_start = now_ns()
        self._prompt_done = 0
        self._recorder, self._path = recorder, path

    def push(self, sample: Sample) -> None:
        recorder = self._recorder
        if recorder is None:
            return
        if recorder.failed:  # its thread has ended: say why once, record nothing more
            self.stop()
            return
        recorder.push(sample)
        if self._prompts and self._prompt_done < len(self._prompts):
            k = int((sample.host_ns - self._prompt_start) / (self.prompt_s * 1e9))
            while self._prompt_done < min(k, len(self._prompts)):
                i = self._prompt_done
                start = self._prompt_start + int(i * self.prompt_s * 1e9)
                recorder.add_label(self._prompts[i], start_ns=start, end_ns=start + int(self.prompt_s * 1e9))
                self._prompt_done += 1

    def text(self) -> str | None:
        """What the window shows: the file, and the gesture asked for now."""
        if self._path is None:
            return None
        if self._prompts and self._prompt_done < len(self._prompts):
            return f"{self._path} — now: {self._prompts[self._prompt_done]}"
        return self._path

    def stop(self) -> None:
        """Stop and finalise the current recording, if any; an error that ended it goes to ``on_error``."""
        recorder, self._recorder = self._recorder, None
        path, self._path = self._path, None
        if recorder is None:
            return
        recorder.stop()
        try:
            recorder.join(timeout=10)
        except (BadInput, OSError, TimeoutError) as error:
            self.on_error(f"recording {path} stopped: {error}")
