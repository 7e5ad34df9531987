"""Data: the synthetic RGB-D-skeleton gesture world, its on-disk format, dataset readers, recordings.

Synthetic world (docs/synthetic.md): ``hand`` (kinematic hand), ``gestures`` (per-label motions),
``camera``, ``render`` (RGB + depth), ``landmarks`` (MediaPipe-style skeleton), ``clip`` (``Clip``,
``Stream``), ``synthetic`` (clips and streams by seed), ``dataset`` (format, writer, reader),
``preview`` (contact sheet), ``hand_stats`` / ``measure_real`` / ``realism`` (checks against real hands).
Recordings: ``recording`` / ``recording_format`` (the project's own ``.mmtm`` files, docs/recording.md).
Real datasets: ``egogesture``, ``nvgesture``, ``ntu`` (docs/datasets.md).
"""
