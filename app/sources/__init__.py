"""Capture sources: one thread each, every sample timestamped (see ``base.py``)."""
