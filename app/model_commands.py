"""The command line's model commands: generate, train, teach, eval, export, model-info.

``main.py`` holds the commands a user runs the application with and the entry point; these are the
ones that make, train and measure models. Same pattern as there: an ``add_<name>`` function
declares a subcommand's arguments, a ``_run_<name>`` function builds its config and calls into
``fusion/`` (or ``app/`` for ``eval --real``), importing what it needs inside, so that one command's
optional SDK never slows or breaks another. The model's and training's flags are derived from their
configuration dataclasses (``fusion.config_flags``), shared ones from parent parsers
(``architecture_flags``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from fusion.config_flags import add_flags, from_flags
from fusion.errors import BadInput
from fusion.model_config import ModelConfig
from fusion.train_config import TRAIN_MODEL, TrainConfig


def architecture_flags(defaults: ModelConfig, description: str) -> argparse.ArgumentParser:
    """The architecture flags of train and model-info: ``ModelConfig``'s, with ``defaults``' values
    (read back by ``model_config``). A new parent per command, so that their defaults stay apart."""
    p = argparse.ArgumentParser(add_help=False)
    group = p.add_argument_group("model architecture", description)
    add_flags(group, ModelConfig, defaults)
    spec = defaults.input
    group.add_argument("--size", metavar="WxH", help=f"model input size (default: {spec.width}x{spec.height})")
    group.add_argument("--window", type=int, metavar="T", help=f"frames per window (default: {spec.window})")
    return p


def model_config(args: argparse.Namespace, defaults: ModelConfig) -> ModelConfig:
    """``defaults`` with the architecture flags given on the command line."""
    spec = defaults.input
    if args.size is not None:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise BadInput(f"--size wants WxH such as 64x48, got {args.size!r}") from None
        spec = dataclasses.replace(spec, width=width, height=height)
    if args.window is not None:
        spec = dataclasses.replace(spec, window=args.window)
    return from_flags(args, ModelConfig, defaults, input=spec)


def modalities_arg(text: str | None) -> tuple[str, ...] | None:
    """``--modalities rgb,skeleton`` → ("rgb", "skeleton"); None when not given."""
    return None if text is None else tuple(m.strip() for m in text.split(",") if m.strip())


def add_modalities_flag(p: argparse.ArgumentParser) -> None:
    """``--modalities M,M`` (eval here, demo and replay in main.py): the model is given only these."""
    p.add_argument("--modalities", metavar="M,M",
                   help="feed the model only these of rgb, depth, skeleton, the rest absent (e.g. skeleton: the "
                        "default model on a RealSense without its streams trained on synthetic images only)")


def add_online_flag(p: argparse.ArgumentParser) -> None:
    """``--online NAME=VALUE`` (repeatable; eval here, demo and replay in main.py): recogniser settings
    over the model's stored ones (``fusion.online.with_settings``)."""
    p.add_argument("--online", action="append", default=[], metavar="NAME=VALUE",
                   help="change one of the model's recogniser settings for this run, e.g. cooldown_s=0.8 for "
                        "quicker successions of gestures (docs/online.md); repeat it for several")


# --- generate ------------------------------------------------------------------------------------

def add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate a synthetic RGB-D-skeleton gesture dataset")
    p.add_argument("--clips", type=int, default=2000, metavar="N", help="isolated clips (default: 2000)")
    p.add_argument("--streams", type=int, default=0, metavar="K", help="continuous streams (default: 0)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the same seed gives byte-identical files")
    p.add_argument("--out", metavar="DIR", help="dataset folder to write")
    p.add_argument("--size", default="160x120", metavar="WxH", help="frame size (default: 160x120)")
    p.add_argument("--frames", type=int, default=32, metavar="T", help="frames per clip (default: 32)")
    p.add_argument("--stream-gestures", type=int, default=8, metavar="G", help="gestures per stream (default: 8)")
    p.add_argument("--workers", type=int, default=2, metavar="P", help="worker processes (default: 2)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    p.add_argument("--preview", metavar="PNG", help="write a contact sheet (one clip per label) instead")
    p.add_argument("--skeleton-only", action="store_true",
                   help="hand skeletons only, no rgb or depth (a webcam's model input; about 500 clips a second)")
    p.add_argument("--camera-fps", metavar="F,F", help="--skeleton-only: each clip seen by a camera at one of these "
                   "rates and stepped at 30 fps as the engine steps it (e.g. 15,20,25,30,60)")
    p.set_defaults(run=_run_generate)


def _run_generate(args: argparse.Namespace) -> int:
    import json

    from fusion.data.synthetic.dataset_files import generate
    from fusion.data.synthetic.preview import write_preview
    from fusion.data.synthetic.world import SynthConfig

    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise BadInput(f"--size wants WxH such as 160x120, got {args.size!r}") from None
    if args.workers < 1:
        raise BadInput("--workers must be >= 1")
    try:
        rates = tuple(float(f) for f in args.camera_fps.split(",")) if args.camera_fps else ()
    except ValueError:
        raise BadInput(f"--camera-fps wants comma-separated rates such as 15,30, got {args.camera_fps!r}") from None
    if rates and not args.skeleton_only:
        raise BadInput("--camera-fps needs --skeleton-only")
    config = SynthConfig(width=width, height=height, frames=args.frames, stream_gestures=args.stream_gestures,
                         render=not args.skeleton_only, camera_fps=rates)
    if args.preview:
        print(write_preview(args.preview, seed=args.seed, config=config, workers=args.workers))
        return 0
    if not args.out:
        raise BadInput("generate needs --out DIR (or --preview PNG)")
    _check_room(args.out, dataset_bytes(config, args.clips, args.streams, images=not args.skeleton_only))
    summary = generate(args.out, clips=args.clips, streams=args.streams, seed=args.seed, config=config,
                       workers=args.workers)
    print(json.dumps(summary) if args.json else
          f"wrote {summary['clips']} clips and {summary['streams']} streams to {summary['out']} in {summary['seconds']} s")
    return 0


def dataset_bytes(config, clips: int, streams: int, *, images: bool = True) -> int:
    """At most the bytes a synthetic dataset takes (uncompressed .npz, dataset_files.py): a frame is
    rgb + uint16 depth (5 bytes a pixel; none in a skeleton-only world), two float32 21-joint
    skeletons and a presence byte; a stream frame also a 64-byte label; a stream has at most 90
    frames a gesture and 30 more."""
    frame = 5 * config.width * config.height * images + 2 * 21 * 3 * 4 + 1
    stream_frames = 90 * config.stream_gestures + 30
    return max(clips, 0) * config.frames * frame + max(streams, 0) * stream_frames * (frame + 64)


def _check_room(out: str, estimate: int) -> None:
    """One line on stderr with the estimate and the free space; BadInput when it cannot fit."""
    import shutil
    from pathlib import Path

    where = Path(out).absolute()
    while not where.exists():
        where = where.parent
    free = shutil.disk_usage(where).free
    if estimate > free:
        raise BadInput(f"generate would write about {estimate / 1e9:.2f} GB to {out} but only {free / 1e9:.1f} GB "
                       f"is free there: fewer --clips or --streams, a smaller --size, or another --out")
    print(f"generate: about {estimate / 1e9:.2f} GB to write to {out}; {free / 1e9:.1f} GB free there",
          file=sys.stderr)


# --- train ---------------------------------------------------------------------------------------

def add_train(sub: argparse._SubParsersAction) -> None:
    training = argparse.ArgumentParser(add_help=False)
    add_flags(training, TrainConfig)
    training.add_argument("--init", default="", metavar="M=CKPT,...",
                          help="unimodal checkpoints for the streams (the paper's recipe), e.g. rgb=a.pt,skeleton=b.pt")
    training.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    training.add_argument("--quiet", action="store_true", help="no progress bar")
    architecture = architecture_flags(TRAIN_MODEL, "The network to build. With --init the streams' architecture "
                                       "(--size, --window, the widths, --rgb-input) comes from the checkpoints, "
                                       "with --finetune or --resume all of it.")
    p = sub.add_parser("train", help="train a stream, late fusion or MMTM", parents=[training, architecture],
                       description="Train one stream, late fusion or MMTM; the paper's recipe: docs/training.md.")
    p.set_defaults(run=_run_train)


def train_config(args: argparse.Namespace) -> TrainConfig:
    init = []
    for part in filter(None, args.init.split(",")):
        name, sep, path = part.partition("=")
        if not sep or not path:
            raise BadInput(f"--init wants modality=CKPT pairs, got {part!r}")
        init.append((name.strip(), path.strip()))
    no_augment = {"augment": None} if args.no_augment else {}
    return from_flags(args, TrainConfig, model=model_config(args, TRAIN_MODEL), init=tuple(init),
                      command=" ".join(["python", "main.py"] + sys.argv[1:]), progress=not args.quiet, **no_augment)


def _run_train(args: argparse.Namespace) -> int:
    import json
    import os

    from fusion.train import train

    summary = train(train_config(args))
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))
    return 0


# --- teach ---------------------------------------------------------------------------------------

def add_teach(sub: argparse._SubParsersAction) -> None:
    from fusion.teach import NewGestures, TeachConfig

    p = sub.add_parser("teach", help="teach the webcam model your gestures from a few labelled takes",
                       description="Fine-tune a skeleton model on takes recorded with `record --labels prompt` "
                                   "(known gestures done your way, or new names), replaying synthetic clips of "
                                   "what it knows; docs/training.md, 'Teach it your gestures'.")
    p.add_argument("--takes", required=True, metavar="PATH", help="a .mmtm recording or a folder of them")
    p.add_argument("--out", required=True, metavar="CKPT", help="the personal model to write")
    p.add_argument("--model", help="the skeleton model to start from (default: assets/model_skeleton.pt)")
    p.add_argument("--epochs", type=int, metavar="N",
                   help=f"default: {TeachConfig.epochs}, {NewGestures.epochs} when every gesture taught is new")
    p.add_argument("--repeat", type=int, metavar="K", help=f"copies of each take per epoch (default: "
                   f"{TeachConfig.repeat}, {NewGestures.repeat} when every gesture taught is new)")
    p.add_argument("--replay", type=int, metavar="N", help=f"synthetic clips of the gestures it knows (default: "
                   f"{TeachConfig.replay}, {NewGestures.replay} when every gesture taught is new)")
    p.add_argument("--classifier-only", action="store_true",
                   help="new gestures: only the classifier learns (seconds, not half a minute; fewer of them "
                        "recalled, docs/BENCHMARKS.md 'Teach')")
    p.add_argument("--no-check", action="store_true",
                   help="skip the estimate per taught gesture and the old-gesture check (faster)")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_run_teach)


def _run_teach(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from fusion.checkpoint import read_checkpoint
    from fusion.data.recording.clips import find_recordings, recording_clips, recording_labels
    from fusion.labels import NO_GESTURE
    from dataclasses import replace

    from fusion.teach import TEMPORAL_LAYERS, NewGestures, TeachConfig, teach

    model = args.model or str(Path(__file__).resolve().parents[1] / "assets" / "model_skeleton.pt")
    paths = find_recordings(args.takes)
    if not paths:
        raise BadInput(f"{args.takes}: no .mmtm recordings (record takes with `record --labels prompt`)")
    meta, _ = read_checkpoint(model)
    labels = tuple(meta.labels) + tuple(l for l in recording_labels(paths) if l not in meta.labels)
    if NO_GESTURE not in labels:
        labels = (NO_GESTURE,) + labels
    takes = recording_clips(paths, labels=labels, spec=meta.config.input)
    given = {k: v for k, v in (("epochs", args.epochs), ("repeat", args.repeat), ("replay", args.replay))
             if v is not None}
    new = None if args.classifier_only else replace(NewGestures(), **given)
    report = teach(TeachConfig(model=model, out=args.out, new=new, check=not args.no_check, threads=args.threads,
                               **given), takes,
                   log=lambda line: print(f"teach: {line}", file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(report.to_dict()))
        return 0
    taught = ", ".join(f"{label} ({n} takes{', new' if label in report.new_labels else ''})"
                       for label, n in report.taught.items())
    print(f"taught {taught} in {report.seconds} s; wrote {report.out}")
    if TEMPORAL_LAYERS in report.frozen:
        print("every gesture taught is new: only the classifier learnt, the others are seen as before")
    elif report.recipe == "new gestures":
        print("every gesture taught is new: learnt from copies turned as other hands and views show them, each kept "
              "to its false-call budget on the other gestures")
    if report.estimate:
        print("estimate on held-out takes: " + ", ".join(f"{l} {v:.0%}" for l, v in report.estimate.items()))
    if report.old_top1 is not None:
        print(f"the old gestures (synthetic clips): {report.old_top1:.1%} (before: {report.base_old_top1:.1%})")
    return 0


# --- eval ----------------------------------------------------------------------------------------

def add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="offline and online accuracy of a model")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", metavar="DIR", help="a synthetic dataset folder (its clips and streams)")
    where.add_argument("--synthetic", action="store_true", help="a fresh synthetic test set drawn with --seed")
    where.add_argument("--real", nargs="?", const="", metavar="DIR",
                       help="real footage listed by DIR/manifest.json, run as the app runs it "
                            "(default DIR: ../shared/data/real; --model default: the webcam model)")
    p.add_argument("--seed", type=int, default=1000, metavar="S", help="--synthetic: the seed (default: 1000)")
    p.add_argument("--clips", type=int, default=170, metavar="N", help="--synthetic: isolated clips (default: 170; 0: online only)")
    p.add_argument("--streams", type=int, default=4, metavar="K", help="--synthetic: continuous streams (default: 4)")
    p.add_argument("--model", metavar="PATH", help="checkpoint (default: assets/model_default.pt; --real: the webcam model)")
    add_modalities_flag(p)
    p.add_argument("--confusion", metavar="PNG", help="write the fused confusion matrix here")
    p.add_argument("--stride", type=int, default=2, metavar="F", help="windowed models: frames between calls")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads")
    p.add_argument("--workers", type=int, default=2, metavar="P", help="--synthetic: generation processes")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    add_online_flag(p)
    p.set_defaults(run=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from fusion.evaluate import DEFAULT_MODEL, EvalConfig, evaluate, print_report

    if args.real is not None:
        return _run_eval_real(args)
    if args.stride < 1 or args.workers < 1:
        raise BadInput("--stride and --workers must be >= 1")
    mods = modalities_arg(args.modalities)
    config = EvalConfig(model=args.model or str(DEFAULT_MODEL), data=args.data, synthetic=args.synthetic,
                        seed=args.seed, clips=args.clips, streams=args.streams, modalities=mods,
                        confusion=args.confusion, stride=args.stride, threads=args.threads, workers=args.workers,
                        settings=tuple(args.online), progress=True)
    print_report(evaluate(config), args.json)
    return 0


def _run_eval_real(args: argparse.Namespace) -> int:
    import json

    from app.evaluate_real import DEFAULT_REAL, RealEvalConfig, evaluate_real, format_real_report

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    report = evaluate_real(RealEvalConfig(root=args.real or str(DEFAULT_REAL), model=args.model,
                                          online=tuple(args.online), modalities=modalities_arg(args.modalities)))
    print(json.dumps(report) if args.json else format_real_report(report))
    return 0


# --- export --------------------------------------------------------------------------------------

def add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a checkpoint to TorchScript or ONNX")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="PATH", help="the checkpoint to export")
    which.add_argument("--default", action="store_true", help="export the default (untrained) model of --shape")
    add_flags(p, ModelConfig, names=("shape",))
    p.add_argument("--format", required=True, choices=("torchscript", "onnx"))
    p.add_argument("--out", required=True, metavar="PATH", help="the file to write")
    p.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from fusion.export import TOLERANCE, ExportConfig, export_model

    shape = from_flags(args, ModelConfig, names=("shape",)).shape
    report = export_model(ExportConfig(out=args.out, format=args.format, model=args.model, shape=shape))
    verdict = "matches" if report.ok else "DOES NOT match"
    print(f"wrote {report.path} ({report.format}, {report.kind}); {verdict} PyTorch: "
          f"max |difference| {report.max_abs_error:.2e} (tolerance {TOLERANCE:.0e})")
    return 0 if report.ok else 1


# --- model-info ----------------------------------------------------------------------------------

def add_model_info(sub: argparse._SubParsersAction) -> None:
    architecture = architecture_flags(ModelConfig(), "The model to count when --model is not given.")
    p = sub.add_parser("model-info", help="parameters and FLOPs per stream, per MMTM and in total",
                       parents=[architecture])
    p.add_argument("--model", metavar="PATH", help="a checkpoint (default: a model built from the architecture flags)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_run_model_info)


def _run_model_info(args: argparse.Namespace) -> int:
    from fusion.model_info import ModelInfoConfig, run_model_info

    if args.model:
        config = ModelInfoConfig(model=args.model, json=args.json)
    else:
        config = ModelInfoConfig(architecture=model_config(args, ModelConfig()), json=args.json)
    print(run_model_info(config))
    return 0
