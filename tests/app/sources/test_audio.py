import builtins
import io
import sys
import types

import numpy as np
import pytest

from app.sources.audio import (
    AudioFileConfig,
    AudioFileSource,
    AudioUnavailable,
    MicrophoneConfig,
    MicrophoneSource,
    audio_inputs,
    open_microphone_or_none,
    read_wav,
    write_wav,
)
from app.sources.open import open_source
from fusion.errors import BadInput


def tone(n=4000, rate=8000):
    return (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)


def test_wav_round_trip_and_file_source_blocks(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, tone(), 8000)
    data, rate = read_wav(path)
    assert rate == 8000 and data.shape == (4000,) and np.abs(data - tone()).max() < 1e-4
    got = []
    source = open_source(str(path), sink=got.append, realtime=False)
    assert isinstance(source, AudioFileSource) and source.stream_info["audio"].rate == 8000
    source.start()
    source.join(timeout=5)
    assert [s.index for s in got] == list(range(8))  # 4000 samples in blocks of 512
    assert all(s.stream == "audio" and s.data.dtype == np.float32 for s in got)
    np.testing.assert_allclose(np.concatenate([s.data for s in got]), data)
    assert got[1].device_ms == pytest.approx(512 / 8000 * 1000)


def test_stereo_8bit_wav_is_mixed_to_mono(tmp_path):
    import wave

    path = tmp_path / "s.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(1)
        wav.setframerate(16000)
        wav.writeframes(bytes([128 + 64, 128 - 64] * 10 + [255, 255] * 10))
    data, rate = read_wav(path)
    assert rate == 16000 and data.shape == (20,)
    assert np.allclose(data[:10], 0) and np.allclose(data[10:], 127 / 128)


def test_bad_wav_files(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        read_wav(tmp_path / "x.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEjunk")
    with pytest.raises(BadInput, match="not a readable PCM WAV"):
        AudioFileSource(AudioFileConfig(str(tmp_path / "bad.wav")), sink=lambda s: None)


def test_no_portaudio_is_one_clear_message(monkeypatch):
    real_import = builtins.__import__

    def no_portaudio(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(AudioUnavailable, match="PortAudio library is missing.*libportaudio2"):
        MicrophoneSource(sink=lambda s: None)
    assert audio_inputs()[0] == [] and "PortAudio" in audio_inputs()[1]
    log = io.StringIO()
    assert open_microphone_or_none(sink=lambda s: None, log=log) is None
    assert log.getvalue().count("\n") == 1 and "continuing without audio" in log.getvalue()
    assert isinstance(AudioUnavailable("x"), BadInput)  # alone (record --source mic): exit code 2


def test_no_input_device_is_one_clear_message(monkeypatch):
    fake = types.ModuleType("sounddevice")

    def query_devices(device=None, kind=None):
        raise ValueError("No input device matching ''")

    fake.query_devices = query_devices
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    with pytest.raises(AudioUnavailable, match="no audio input device found"):
        open_source("mic", sink=lambda s: None)
    fake.query_devices = lambda device=None, kind=None: [
        {"name": "speaker", "max_input_channels": 0, "default_samplerate": 48000.0}]
    assert audio_inputs() == ([], "no microphone: PortAudio finds no audio input device")
    fake.query_devices = lambda device=None, kind=None: [
        {"name": "speaker", "max_input_channels": 0, "default_samplerate": 48000.0},
        {"name": "usb mic", "max_input_channels": 1, "default_samplerate": 16000.0}]
    assert audio_inputs() == ([{"index": 1, "name": "usb mic", "channels": 1, "default_rate": 16000.0}], None)


def test_fake_microphone_streams_blocks(monkeypatch):
    fake = types.ModuleType("sounddevice")
    fake.query_devices = lambda device=None, kind=None: {"name": "fake mic"}

    class Status:
        input_overflow = False

    class InputStream:
        def __init__(self, *, callback, blocksize, **kwargs):
            self.callback, self.blocksize = callback, blocksize

        def __enter__(self):
            for k in range(5):
                self.callback(np.full((self.blocksize, 1), k / 10, np.float32), self.blocksize, None, Status())
            return self

        def __exit__(self, *exc):
            return False

    fake.InputStream = InputStream
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    got = []
    mic = MicrophoneSource(MicrophoneConfig(block=64), sink=got.append)
    assert mic.device_name == "fake mic"
    mic.start()
    for _ in range(100):
        if len(got) == 5:
            break
        mic.wait(0.02)
    mic.stop()
    mic.join(timeout=2)
    assert [s.index for s in got] == list(range(5)) and got[4].data.shape == (64,)
    assert got[2].data[0] == pytest.approx(0.2)
