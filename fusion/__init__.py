"""The model library of mmtm-live: MMTM, the streams, the fusion network and their data."""
