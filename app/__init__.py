"""The real-time application of mmtm-live: sources, buffers, the inference worker, the UI."""
