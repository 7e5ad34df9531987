"""Data, grouped by what it is.

- ``sample``: ``Sample``, ``Skeleton``, ``StreamInfo`` — the one captured-sample type that sources,
  the recorder and every reader share.
- ``synthetic/``: the synthetic RGB-D-skeleton gesture world (docs/synthetic.md): the kinematic hand,
  per-label motions, camera, renderer, MediaPipe-style landmarks, clips and streams by seed, the
  dataset folder format, the contact sheet, and the realism checks against real hands.
- ``readers/``: public datasets (EgoGesture, NVGesture, NTU RGB+D; docs/datasets.md).
- ``recording/``: the project's own ``.mmtm`` files (docs/recording.md) and labelled recordings as
  training clips.
- ``model_inputs``: clips of any origin preprocessed once into model inputs, batched as tensors.
"""
