"""The mmtm-live command line: parses arguments, builds config objects, calls one function.

Exit codes: 0 success; 2 bad input or usage (one clear line on stderr); 1 an internal error.
With no arguments it runs ``demo --source auto``.

Here: the application's commands (demo, replay, record, sources, bench, fetch-models) and the entry
point; the model commands (generate, train, teach, eval, export, model-info) are in
``app/model_commands.py``. Each subcommand has an ``_add_<name>`` function that declares its
arguments and a ``_run_<name>`` function that builds its config and calls into ``app/``; imports
happen there, so that one command's optional SDK never slows or breaks another. Flags that several
commands share come from parent parsers (``_runner_flags``, ``_hand_flags``).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from app.ctrl_c import catch_from_the_start

if __name__ == "__main__" or os.path.basename(sys.argv[0]) == "mmtm-live":  # the program, not an importer:
    catch_from_the_start()  # Ctrl-C or SIGTERM during the imports below is a clean stop request

# after the line above, on purpose
from app.model_commands import (add_eval, add_export, add_generate, add_modalities_flag,  # noqa: E402
                                add_model_info, add_online_flag, add_teach, add_train, modalities_arg)
from fusion.errors import BadInput  # noqa: E402

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
    add_online_flag(p)
    add_modalities_flag(p)
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from app.engine import Engine, EngineConfig, resolve_source
    from app.inference_worker import WorkerConfig
    from app.model_runner import RunnerConfig

    if args.max_frames is not None and args.max_frames <= 0:
        raise BadInput("--max-frames must be positive")
    sources = [resolve_source(name) for name in (args.source or ["auto"])]
    config = EngineConfig(source=sources[0], extra_sources=tuple(sources[1:]),
                          runner=RunnerConfig(model=args.model, device=args.device, backend=args.backend,
                                              online=tuple(args.online)),
                          hands=_hand_config(args), modalities=modalities_arg(args.modalities),
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
    add_online_flag(p)
    add_modalities_flag(p)
    p.set_defaults(run=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    from app.engine import Engine, EngineConfig
    from app.inference_worker import WorkerConfig
    from app.model_runner import RunnerConfig

    if args.max_frames is not None and args.max_frames <= 0:
        raise BadInput("--max-frames must be positive")
    first, *more = args.path
    config = EngineConfig(source=first, extra_sources=tuple(more), deterministic=args.deterministic,
                          runner=RunnerConfig(model=args.model, device=args.device, backend=args.backend,
                                              online=tuple(args.online)),
                          hands=_hand_config(args), modalities=modalities_arg(args.modalities),
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
    for add in (_add_demo, _add_replay, _add_record, _add_sources, add_generate, add_train, add_teach,
                add_eval, add_export, _add_bench, add_model_info, _add_fetch_models):
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
