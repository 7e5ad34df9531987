"""The project's own recording format (``.mmtm``): files only, no threads, no devices.

``format`` the byte layout and frame codecs (image sizes checked from their headers), ``writer``
(``RecordingWriter``), ``reader`` (``RecordingReader``), ``values`` (the JSON chunks' values
checked, ``LabelSegment``), ``clips`` (labelled recordings → training clips).
The live recorder (``app/recorder.py``) writes through ``RecordingWriter``; replay and training
read through ``RecordingReader``. Layout and guarantees: docs/recording.md.
"""

from fusion.data.recording.reader import LabelSegment, RecordingReader
from fusion.data.recording.writer import RecordingWriter

__all__ = ["LabelSegment", "RecordingReader", "RecordingWriter"]
