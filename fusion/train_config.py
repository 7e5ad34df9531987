"""The configuration of one training run: the network to build (a ``ModelConfig``) and how to train it.

The fields declared with ``option`` are ``python main.py train``'s training flags; the network's
are the architecture flags of ``ModelConfig``. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fusion.augment_config import AugmentConfig
from fusion.config_flags import option
from fusion.errors import BadInput
from fusion.model_config import ModelConfig
from fusion.preprocess import InputSpec

# What ``train`` builds when no option says otherwise: the skeleton stream alone, 64x48 input,
# windows of 20 frames (at least the streaming model's receptive field of 15).
TRAIN_MODEL = ModelConfig(fusion="none", modalities=("skeleton",), input=InputSpec(width=64, height=48, window=20))


@dataclass(frozen=True)
class TrainConfig:
    """One training run (``python main.py train``).

    ``model`` is the network to build; its ``num_classes`` comes from the data's labels. With
    ``init`` the streams' architecture (input size and window, widths, temporal layers, what the
    rgb stream sees) comes from the unimodal checkpoints, and ``model`` gives only the modalities,
    the fusion, the shape and where MMTM sits; with ``finetune`` or ``resume`` all of it comes from
    the checkpoint.
    """

    data: str = option(help="synthetic dataset folder(s), comma-separated (python main.py generate; clips and the "
                       "windows of its streams), or .mmtm recordings (a folder or one file)", metavar="DIR")
    out: str = option(help="checkpoint to write (and its .state.pt, .curves.png)", metavar="CKPT")
    model: ModelConfig = TRAIN_MODEL
    real: str | None = option(None, "also train on real hands: the keypoint-table rows of this folder of real "
                              "footage (its manifest.json; the rows eval --real does not score)", metavar="DIR")
    readings: str | None = option(None, "also train on MediaPipe's readings of rendered hands, each held still "
                                  "(a readings file of scripts/make_readings.py)", metavar="FILE")
    epochs: int = option(5, "epochs (0 with --init: assemble only)", metavar="N")
    batch: int = option(16, "clips per step and process", metavar="B")
    lr: float = option(2e-3, "peak learning rate of AdamW")
    weight_decay: float = 1e-4
    init: tuple[tuple[str, str], ...] = ()        # (modality, unimodal checkpoint) pairs: the paper's recipe
    resume: str | None = option(None, "continue the run that wrote CKPT (reads CKPT.state.pt)", metavar="CKPT")
    finetune: str | None = option(None, "start from this model (e.g. assets/model_default.pt); --data may then be "
                                  ".mmtm recordings with new gesture labels", metavar="CKPT")
    freeze: tuple[str, ...] = ()                  # with finetune: modules (e.g. "streams.skeleton.stages") kept as loaded
    # with finetune: weight of keeping the fine-tuned model's own answers (over its labels) on the clips
    # labelled one of ``distill_labels``: what it knew is learnt from itself as well as from the labels
    distill: float = 0.0
    distill_labels: tuple[str, ...] = ()
    seed: int = option(0, "model initialisation, sampling, augmentation and the validation split", metavar="S")
    modality_dropout: float = option(0.0, "per-sample chance to drop one modality", metavar="P")
    aux_loss: float = option(0.5, "weight of each stream's own loss in a fusion model (0: fused loss only)",
                             metavar="W")
    threads: int | None = option(None, "torch CPU threads", metavar="N")
    device: str = option("auto", "where to train", choices=("auto", "cpu", "cuda"))
    label_smoothing: float = 0.05
    val_fraction: float = 0.05                    # held-out clips for the per-epoch validation accuracy
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)  # None: no augmentation
    command: str = ""                             # the command line, recorded in the checkpoint
    progress: bool = True
    max_steps_per_epoch: int | None = option(None, "at most N steps per epoch (quick runs)", metavar="N",
                                             flag="max-steps")

    def validate(self) -> None:
        """``BadInput``, naming the flags, for options that do not work together (``train`` checks the files)."""
        if self.epochs < 0 or self.batch < 2 or self.lr <= 0:
            raise BadInput("--epochs must be >= 0, --batch >= 2 and --lr > 0")
        if not 0.0 <= self.modality_dropout < 1.0:
            raise BadInput("--modality-dropout must be in [0, 1)")
        if not self.aux_loss >= 0.0:
            raise BadInput("--aux-loss must be >= 0")
        model = self.model
        placed = model.mmtm_pooled or model.mmtm_temporal or model.mmtm_stages != ModelConfig().mmtm_stages
        if placed and (self.finetune or model.fusion != "mmtm"):
            raise BadInput("--mmtm-stages, --mmtm-temporal and --mmtm-pooled place the MMTMs of a network "
                           "built here: they need --fusion mmtm and no --finetune")
        if (self.freeze or self.distill) and not self.finetune:
            raise BadInput("freezing modules or distilling needs a model to fine-tune (--finetune)")
        if not self.distill >= 0.0:
            raise BadInput("distill must be >= 0")
        if self.finetune:
            if self.init:
                raise BadInput("--finetune and --init exclude each other")
            return
        for m, _ in self.init:
            if m not in model.modalities:
                raise BadInput(f"--init names {m!r}, which is not among --modalities {','.join(model.modalities)}")
        if model.fusion == "late" and self.epochs == 0 and len(self.init) != len(model.modalities):
            raise BadInput("late fusion without training needs --init for every modality")
