"""Audio sources: the microphone (sounddevice) and a WAV file (for tests and replays).

Both emit ``audio`` samples: (N,) float32 in [-1, 1], mono, a block at a time; ``index`` is the
block number (a gap is a dropped block). Without PortAudio or without an input device,
``MicrophoneSource`` raises ``AudioUnavailable`` (a ``BadInput``) with one line naming the fix;
``open_microphone_or_none`` prints that line and returns None so that video goes on without audio.
"""

from __future__ import annotations

import queue
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from app.sources.base import Sink, SourceThread, now_ns
from fusion.data.sample import Sample, StreamInfo
from fusion.errors import BadInput


class AudioUnavailable(BadInput):
    """No microphone: PortAudio missing, no input device, or the device refused to open."""


# --- WAV file ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AudioFileConfig:
    path: str
    block: int = 512  # samples per emitted block
    realtime: bool = True  # pace blocks at the file's rate; False: as fast as possible


class AudioFileSource(SourceThread):
    """A PCM WAV file (8/16/32-bit integer, any channel count, mixed down to mono)."""

    name = "audio-file"

    def __init__(self, config: AudioFileConfig, *, sink: Sink) -> None:
        super().__init__(sink=sink)
        self.config = config
        self.audio, self.rate = read_wav(config.path)
        self.stream_info["audio"] = StreamInfo("audio", rate=self.rate)

    def _run(self) -> None:
        block = self.config.block
        start = now_ns()
        for k, first in enumerate(range(0, len(self.audio), block)):
            if self.stopping:
                break
            if self.config.realtime:
                delay = first / self.rate - (now_ns() - start) / 1e9
                if delay > 0 and self.wait(delay):
                    break
            chunk = self.audio[first:first + block]
            self.emit(Sample("audio", chunk, k, host_ns=now_ns(), device_ms=1000.0 * first / self.rate))


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(samples (N,) float32 mono in [-1, 1], rate) of a PCM WAV; BadInput when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        with wave.open(str(path), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as error:
        raise BadInput(f"{path} is not a readable PCM WAV file ({error})") from None
    if width not in (1, 2, 4):
        raise BadInput(f"{path}: {8 * width}-bit WAV samples are not supported (8, 16 or 32-bit PCM)")
    frames = len(raw) // (width * channels)
    if frames == 0:
        raise BadInput(f"{path} holds no audio")
    dtype = {1: np.uint8, 2: np.dtype("<i2"), 4: np.dtype("<i4")}[width]
    data = np.frombuffer(raw[: frames * width * channels], dtype).reshape(frames, channels).astype(np.float32)
    if width == 1:
        data = (data - 128.0) / 128.0
    else:
        data /= float(2 ** (8 * width - 1))
    return data.mean(axis=1).astype(np.float32), rate  # (N,) mono


def write_wav(path: str | Path, audio: np.ndarray, rate: int) -> None:
    """Write (N,) float32 in [-1, 1] as a 16-bit mono PCM WAV."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())


# --- microphone ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MicrophoneConfig:
    device: int | str | None = None  # sounddevice's device index or name; None: the default input
    rate: int = 16000
    block: int = 512
    queue_blocks: int = 64  # blocks waiting for the thread; when full the oldest is dropped


def _sounddevice():
    """The sounddevice module, or AudioUnavailable naming the fix."""
    try:
        import sounddevice
    except OSError as error:  # raised by sounddevice when the PortAudio library is missing
        raise AudioUnavailable(f"no microphone: the PortAudio library is missing ({error}); "
                               "install it (Debian/Ubuntu: sudo apt install libportaudio2)") from None
    except ImportError:
        raise AudioUnavailable("no microphone: the Python package sounddevice is not installed "
                               "(pip install sounddevice)") from None
    return sounddevice


class MicrophoneSource(SourceThread):
    """Live audio from an input device. The constructor checks the device (AudioUnavailable)."""

    name = "microphone"

    def __init__(self, config: MicrophoneConfig = MicrophoneConfig(), *, sink: Sink) -> None:
        super().__init__(sink=sink)
        self.config = config
        self._sd = _sounddevice()
        try:
            info = self._sd.query_devices(config.device, kind="input")
        except Exception as error:  # sounddevice raises PortAudioError or ValueError
            raise AudioUnavailable(f"no microphone: no audio input device found ({error}); "
                                   "plug one in or choose one listed by 'mmtm-live sources'") from None
        self.device_name = str(info.get("name", config.device))
        self.stream_info["audio"] = StreamInfo("audio", rate=config.rate)
        self.overflows = 0  # blocks PortAudio reports as overflowed
        self.dropped = 0  # blocks dropped because this thread fell behind

    def _run(self) -> None:
        blocks: queue.Queue = queue.Queue(maxsize=self.config.queue_blocks)
        counter = [0]
        period_ns = int(1e9 * self.config.block / self.config.rate)

        def callback(indata, frames, time_info, status) -> None:  # PortAudio's thread
            if status.input_overflow:
                self.overflows += 1
            item = (counter[0], now_ns() - period_ns, indata[:, 0].astype(np.float32))
            counter[0] += 1
            try:
                blocks.put_nowait(item)
            except queue.Full:
                try:
                    blocks.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass
                blocks.put_nowait(item)

        try:
            stream = self._sd.InputStream(device=self.config.device, channels=1, samplerate=self.config.rate,
                                          blocksize=self.config.block, dtype="float32", callback=callback)
        except Exception as error:
            raise AudioUnavailable(f"no microphone: {self.device_name} did not open ({error})") from None
        with stream:
            while not self.stopping:
                try:
                    index, host_ns, data = blocks.get(timeout=0.1)
                except queue.Empty:
                    continue
                self.emit(Sample("audio", data, index, host_ns=host_ns))


def audio_inputs() -> tuple[list[dict], str | None]:
    """The audio input devices ({"index", "name", "channels", "default_rate"}), and why there are
    none when the list is empty (for ``python main.py sources``)."""
    try:
        sd = _sounddevice()
        devices = [{"index": i, "name": d["name"], "channels": int(d["max_input_channels"]),
                    "default_rate": float(d["default_samplerate"])}
                   for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]
    except AudioUnavailable as error:
        return [], str(error)
    except Exception as error:  # PortAudio errors while listing
        return [], f"no microphone: listing audio devices failed ({error})"
    return devices, None if devices else "no microphone: PortAudio finds no audio input device"


def open_microphone_or_none(config: MicrophoneConfig = MicrophoneConfig(), *, sink: Sink,
                            log: TextIO | None = None) -> MicrophoneSource | None:
    """A MicrophoneSource, or None after one line on ``log`` (stderr) saying why there is none."""
    try:
        return MicrophoneSource(config, sink=sink)
    except AudioUnavailable as error:
        print(f"{error} — continuing without audio", file=log or sys.stderr)
        return None
