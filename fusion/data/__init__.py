"""Data: the project's recording format (and, from other issues, datasets and the synthetic generator)."""
