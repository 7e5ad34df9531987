"""The mmtm-live command line: parses arguments, builds config objects, calls one function.

Exit codes: 0 success; 2 bad input or usage (one clear line on stderr); 1 an internal error.
With no arguments it runs ``demo --source auto``.

Each subcommand has an ``_add_<name>`` function that declares its arguments and a ``_run_<name>``
function that builds its config and calls into ``app/`` or ``fusion/``; imports happen there, so
that one command's optional SDK never slows or breaks another. The model's and training's flags
are derived from their configuration dataclasses (``fusion.config_flags``; those modules import no
torch), and flags that several commands share come from parent parsers (``_runner_flags``,
``_architecture_flags``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Sequence

from app.ctrl_c import catch_from_the_start

if __name__ == "__main__" or os.path.basename(sys.argv[0]) == "mmtm-live":  # the program, not an importer:
    catch_from_the_start()  # Ctrl-C or SIGTERM during the imports below is a clean stop request

from fusion.config_flags import add_flags, from_flags  # noqa: E402 (after the line above, on purpose)
from fusion.errors import BadInput  # noqa: E402
from fusion.model_config import ModelConfig  # noqa: E402
from fusion.train_config import TRAIN_MODEL, TrainConfig  # noqa: E402

PROG = "mmtm-live"


# --- flags shared by several commands (argparse parent parsers) -----------------------------------

def _runner_flags() -> argparse.ArgumentParser:
    """How demo, replay and bench run a model (``app.model_runner.RunnerConfig``)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--model", metavar="PATH", help="checkpoint to run (default: the bundled model for the source; "
                                                   "'untrained': the default architecture, for timing)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--backend", default="auto", choices=("auto", "eager", "torchscript", "onnxruntime"),
                   help="auto: ONNX Runtime on CPU, eager PyTorch on GPU")
    return p


def _hand_flags() -> argparse.ArgumentParser:
    """MediaPipe's hand tracking for webcams, videos and RealSense color (``HandTrackerConfig``)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--hands", type=int, default=1, choices=(1, 2, 3, 4), metavar="N",
                   help="hands MediaPipe tracks (default 1: it follows one hand, the models read one; "
                        "2: --hand chooses between two in view, at about twice MediaPipe's cost)")
    p.add_argument("--hand", default="Right", choices=("Right", "Left", "any"),
                   help="the hand that drives the model when several are tracked (default: Right)")
    return p


def _hand_config(args: argparse.Namespace):
    from app.hand_tracker import HandTrackerConfig

    return HandTrackerConfig(max_hands=args.hands, hand=args.hand)


def _architecture_flags(defaults: ModelConfig, description: str) -> argparse.ArgumentParser:
    """The architecture flags of train and model-info: ``ModelConfig``'s, with ``defaults``' values
    (read back by ``_model_config``). A new parent per command, so that their defaults stay apart."""
    p = argparse.ArgumentParser(add_help=False)
    group = p.add_argument_group("model architecture", description)
    add_flags(group, ModelConfig, defaults)
    spec = defaults.input
    group.add_argument("--size", metavar="WxH", help=f"model input size (default: {spec.width}x{spec.height})")
    group.add_argument("--window", type=int, metavar="T", help=f"frames per window (default: {spec.window})")
    return p


def _model_config(args: argparse.Namespace, defaults: ModelConfig) -> ModelConfig:
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


# --- demo ----------------------------------------------------------------------------------------

def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="live gesture recognition in a window (or headless)",
                       parents=[_runner_flags(), _hand_flags()])
    p.add_argument("--source", action="append", metavar="SOURCE",
                   help="auto|realsense|webcam|sample|PATH (default: auto); repeat it to run several sources "
                        "through one model (the window shows the first)")
    p.add_argument("--headless", action="store_true", help="no window: JSON lines on stdout")
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window and exit")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--actions", metavar="TOML", help="gesture -> action file (see assets/actions.example.toml)")
    p.add_argument("--batch-sources", action="store_true",
                   help="several sources: run their frames as one batch (default: on CUDA only)")
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from app.engine import Engine, EngineConfig, resolve_source
    from app.inference_worker import WorkerConfig
    from app.model_runner import RunnerConfig

    if args.max_frames is not None and args.max_frames <= 0:
        raise BadInput("--max-frames must be positive")
    sources = [resolve_source(name) for name in (args.source or ["auto"])]
    config = EngineConfig(source=sources[0], extra_sources=tuple(sources[1:]),
                          runner=RunnerConfig(model=args.model, device=args.device, backend=args.backend),
                          hands=_hand_config(args),
                          worker=WorkerConfig(batch_sources=True if args.batch_sources else None),
                          max_frames=args.max_frames, actions=args.actions, headless=args.headless,
                          snapshots=not args.headless)
    if config.headless:
        Engine(config).run()
        return 0
    from app.ui.run import run_engine_window

    return run_engine_window(config, screenshot=args.screenshot)


# --- replay --------------------------------------------------------------------------------------

def _add_replay(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="play a recording (.bag/.db3, video, own format, 'sample')",
                       parents=[_runner_flags(), _hand_flags()])
    p.add_argument("path", nargs="+", help="a recording, a video file, or 'sample'; several run side by side "
                                           "through one model (the window shows the first)")
    p.add_argument("--headless", action="store_true", help="no window: JSON lines on stdout")
    p.add_argument("--deterministic", action="store_true", help="process every frame, in order")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--actions", metavar="TOML", help="gesture -> action file")
    p.add_argument("--screenshot", metavar="PNG", help="save a PNG of the window and exit")
    p.add_argument("--batch-sources", action="store_true",
                   help="several sources: run their frames as one batch (default: on CUDA only; "
                        "never with --deterministic)")
    p.set_defaults(run=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    from app.engine import Engine, EngineConfig
    from app.inference_worker import WorkerConfig
    from app.model_runner import RunnerConfig

    if args.max_frames is not None and args.max_frames <= 0:
        raise BadInput("--max-frames must be positive")
    first, *more = args.path
    config = EngineConfig(source=first, extra_sources=tuple(more), deterministic=args.deterministic,
                          runner=RunnerConfig(model=args.model, device=args.device, backend=args.backend),
                          hands=_hand_config(args),
                          worker=WorkerConfig(deterministic=args.deterministic,
                                              batch_sources=True if args.batch_sources else None),
                          max_frames=args.max_frames, actions=args.actions, headless=args.headless,
                          snapshots=not args.headless)
    if config.headless:
        Engine(config).run()
        return 0
    from app.ui.run import run_engine_window

    return run_engine_window(config, screenshot=args.screenshot)


# --- record --------------------------------------------------------------------------------------

def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record a source to the project's recording format")
    p.add_argument("out", help="the recording to write (.mmtm)")
    p.add_argument("--source", required=True, help="what to record: a .mmtm recording, a .wav, mic, sample")
    p.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: Ctrl-C or the end)")
    p.add_argument("--lossless", action="store_true", help="lossless PNG color instead of JPEG")
    p.add_argument("--labels", default="none", choices=("none", "prompt"),
                   help="prompt: ask for each gesture in turn and store labelled segments")
    p.add_argument("--gestures", default="", metavar="A,B,C", help="gestures to prompt for (snake_case)")
    p.add_argument("--gesture-seconds", type=float, default=2.0, metavar="S", help="length of each prompt")
    p.add_argument("--fast", action="store_true",
                   help="read file sources as fast as possible, not in real time (every frame is still kept)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(run=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    import json

    from app.recorder import RecordConfig, record

    if not args.out.lower().endswith(".mmtm"):
        raise BadInput(f"the recording must end in .mmtm: {args.out}")
    gestures = tuple(g.strip() for g in args.gestures.split(",") if g.strip())
    summary = record(RecordConfig(out=args.out, source=args.source, seconds=args.seconds, lossless=args.lossless,
                                  labels=args.labels, gestures=gestures, gesture_s=args.gesture_seconds,
                                  realtime=not args.fast, overwrite=args.overwrite))
    print(json.dumps(summary))
    return 0


# --- sources -------------------------------------------------------------------------------------

def _add_sources(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sources", help="list cameras, RealSense devices and audio inputs")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--max-cameras", type=int, default=10, metavar="N",
                   help="camera indices to probe where /dev/video* cannot be listed (default: 10)")
    p.set_defaults(run=_run_sources)


def _run_sources(args: argparse.Namespace) -> int:
    from app.sources.listing import ListingConfig, run

    return run(ListingConfig(json=args.json, max_cameras=args.max_cameras))


# --- generate ------------------------------------------------------------------------------------

def _add_generate(sub: argparse._SubParsersAction) -> None:
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
    _check_room(args.out, _dataset_bytes(config, args.clips, args.streams))
    summary = generate(args.out, clips=args.clips, streams=args.streams, seed=args.seed, config=config,
                       workers=args.workers)
    print(json.dumps(summary) if args.json else
          f"wrote {summary['clips']} clips and {summary['streams']} streams to {summary['out']} in {summary['seconds']} s")
    return 0


def _dataset_bytes(config, clips: int, streams: int) -> int:
    """At most the bytes a synthetic dataset takes (uncompressed .npz, dataset_files.py): a frame is
    rgb + uint16 depth (5 bytes a pixel), two float32 21-joint skeletons and a presence byte; a
    stream frame also a 64-byte label; a stream has at most 90 frames a gesture and 30 more."""
    frame = 5 * config.width * config.height + 2 * 21 * 3 * 4 + 1
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

def _add_train(sub: argparse._SubParsersAction) -> None:
    training = argparse.ArgumentParser(add_help=False)
    add_flags(training, TrainConfig)
    training.add_argument("--init", default="", metavar="M=CKPT,...",
                          help="unimodal checkpoints for the streams (the paper's recipe), e.g. rgb=a.pt,skeleton=b.pt")
    training.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    training.add_argument("--quiet", action="store_true", help="no progress bar")
    architecture = _architecture_flags(TRAIN_MODEL, "The network to build. With --init the streams' architecture "
                                       "(--size, --window, the widths, --rgb-input) comes from the checkpoints, "
                                       "with --finetune or --resume all of it.")
    p = sub.add_parser("train", help="train a stream, late fusion or MMTM", parents=[training, architecture],
                       description="Train one stream, late fusion or MMTM; the paper's recipe: docs/training.md.")
    p.set_defaults(run=_run_train)


def _train_config(args: argparse.Namespace) -> TrainConfig:
    init = []
    for part in filter(None, args.init.split(",")):
        name, sep, path = part.partition("=")
        if not sep or not path:
            raise BadInput(f"--init wants modality=CKPT pairs, got {part!r}")
        init.append((name.strip(), path.strip()))
    no_augment = {"augment": None} if args.no_augment else {}
    return from_flags(args, TrainConfig, model=_model_config(args, TRAIN_MODEL), init=tuple(init),
                      command=" ".join(["python", "main.py"] + sys.argv[1:]), progress=not args.quiet, **no_augment)


def _run_train(args: argparse.Namespace) -> int:
    import json
    import os

    from fusion.train import train

    summary = train(_train_config(args))
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))
    return 0


# --- eval ----------------------------------------------------------------------------------------

def _add_eval(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--modalities", metavar="M,M", help="feed only these modalities (e.g. skeleton: no camera image)")
    p.add_argument("--confusion", metavar="PNG", help="write the fused confusion matrix here")
    p.add_argument("--stride", type=int, default=2, metavar="F", help="windowed models: frames between calls")
    p.add_argument("--threads", type=int, metavar="N", help="torch CPU threads")
    p.add_argument("--workers", type=int, default=2, metavar="P", help="--synthetic: generation processes")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.set_defaults(run=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from fusion.evaluate import DEFAULT_MODEL, EvalConfig, evaluate, print_report

    if args.real is not None:
        return _run_eval_real(args)
    if args.stride < 1 or args.workers < 1:
        raise BadInput("--stride and --workers must be >= 1")
    mods = None if args.modalities is None else tuple(m.strip() for m in args.modalities.split(",") if m.strip())
    config = EvalConfig(model=args.model or str(DEFAULT_MODEL), data=args.data, synthetic=args.synthetic,
                        seed=args.seed, clips=args.clips, streams=args.streams, modalities=mods,
                        confusion=args.confusion, stride=args.stride, threads=args.threads, workers=args.workers,
                        progress=True)
    print_report(evaluate(config), args.json)
    return 0


def _run_eval_real(args: argparse.Namespace) -> int:
    import json

    from app.evaluate_real import DEFAULT_REAL, RealEvalConfig, evaluate_real, format_real_report

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    report = evaluate_real(RealEvalConfig(root=args.real or str(DEFAULT_REAL), model=args.model))
    print(json.dumps(report) if args.json else format_real_report(report))
    return 0


# --- export --------------------------------------------------------------------------------------

def _add_export(sub: argparse._SubParsersAction) -> None:
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


# --- bench ---------------------------------------------------------------------------------------

def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="latency benchmark of the whole pipeline or the models",
                       parents=[_runner_flags(), _hand_flags()])
    p.add_argument("--source", help="what to run (default: the bundled sample, else a synthetic recording)")
    p.add_argument("--seconds", type=float, default=20.0, help="how long to run (default: 20)")
    p.add_argument("--out", default="bench", metavar="DIR", help="folder for bench.json and the plots")
    p.add_argument("--fast", action="store_true", help="read file sources as fast as possible (not real time)")
    p.add_argument("--model-only", action="store_true", help="compare models, backends and batch sizes")
    p.add_argument("--rounds", type=int, default=15, help="--model-only: timed calls per variant")
    p.add_argument("--reference", metavar="TASK", help="a video source: MediaPipe's gesture_recognizer.task to "
                                                     "time as the reference (default: the cache's, else its hand "
                                                     "landmarker alone)")
    p.set_defaults(run=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from app.bench import BenchConfig, run_bench

    if args.seconds <= 0 or args.rounds <= 0:
        raise BadInput("--seconds and --rounds must be positive")
    run_bench(BenchConfig(source=args.source, seconds=args.seconds, model=args.model, device=args.device,
                          backend=args.backend, out=args.out, realtime=not args.fast, model_only=args.model_only,
                          rounds=args.rounds, hands=_hand_config(args), reference=args.reference))
    return 0


# --- model-info ----------------------------------------------------------------------------------

def _add_model_info(sub: argparse._SubParsersAction) -> None:
    architecture = _architecture_flags(ModelConfig(), "The model to count when --model is not given.")
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
        config = ModelInfoConfig(architecture=_model_config(args, ModelConfig()), json=args.json)
    print(run_model_info(config))
    return 0


# --- fetch-models --------------------------------------------------------------------------------

def _add_fetch_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch-models", help="fetch MediaPipe's hand model bundle (offline, from PyPI)")
    p.add_argument("--out", help="where to write hand_landmarker.task (default: the user cache)")
    p.set_defaults(run=_run_fetch_models)


def _run_fetch_models(args: argparse.Namespace) -> int:
    from app.hand_model import ensure_hand_model

    print(ensure_hand_model(args.out))
    return 0


# --- entry point ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Real-time multimodal gesture recognition with MMTM.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_demo, _add_replay, _add_record, _add_sources, _add_generate, _add_train,
                _add_eval, _add_export, _add_bench, _add_model_info, _add_fetch_models):
        add(sub)
    return parser


# Commands that stop cleanly on Ctrl-C or SIGTERM (their loops poll app.ctrl_c's flag): summary, exit 0.
# The others stop at once with exit 130.
_STOP_CLEANLY = ("demo", "replay", "record")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command in ``argv`` (default: the process's arguments); the exit code. Called as the
    program (no ``argv``), a signal after the command is done exits at once with its code."""
    from app.ctrl_c import ctrl_c_flag, exit_on_stop_signals

    with ctrl_c_flag():  # from here on a signal is a stop request, kept for the command (app/ctrl_c.py)
        code = _run_command(list(sys.argv[1:] if argv is None else argv))
    if argv is None:
        exit_on_stop_signals(code)
    return code


def _run_command(argv: list[str]) -> int:
    from app.ctrl_c import ctrl_c_raises

    if not argv:
        argv = ["demo", "--source", "auto"]
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help(sys.stderr)
        return 2
    try:
        if args.command in _STOP_CLEANLY:
            return int(args.run(args) or 0)
        with ctrl_c_raises():
            return int(args.run(args) or 0)
    except BadInput as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second signal (the user insists), or a command that cannot stop early
        return 130


if __name__ == "__main__":
    sys.exit(main())
