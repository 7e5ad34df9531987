"""Export a model to TorchScript or ONNX, and check the export against PyTorch.

A streaming model is exported as its STEP with explicit state; a windowed model as its window forward.
Inputs and outputs, in order (M = number of modalities, in the order rgb, depth, skeleton)::

    streaming  inputs : <modality frame> ×M  (rgb (B,3,H,W), depth (B,1,H,W), skeleton (B,C,J)),
                        present (B,M) 0/1, state_0 … state_{S−1}   (zeros at the start: model.initial_state)
               outputs: logits (B,K), logits_<modality> ×M, state_out_0 … state_out_{S−1}  (feed back next step)
    windowed   inputs : <modality window> ×M (rgb (B,3,T,H,W), depth (B,1,T,H,W), skeleton (B,C,T,J)), present (B,M)
               outputs: logits (B,K), logits_<modality> ×M

The checkpoint's metadata JSON travels inside the file: TorchScript extra file ``metadata.json``,
ONNX ``metadata_props["mmtm_live"]``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from fusion.build import build_model
from fusion.checkpoint import CheckpointMeta, load_checkpoint
from fusion.errors import BadInput
from fusion.model_config import ModelConfig
from fusion.streaming import StreamingFusionNet

FORMATS = ("torchscript", "onnx")
TOLERANCE = 1e-4


class StepExport(nn.Module):
    """``StreamingFusionNet.step_functional`` with flat tensor arguments."""

    def __init__(self, net: StreamingFusionNet) -> None:
        super().__init__()
        self.net = net
        self.m = len(net.modalities)

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        logits, streams, state = self.net.step_functional(args[:self.m], args[self.m], args[self.m + 1:])
        return (logits, *streams, *state)


class WindowExport(nn.Module):
    """The window forward with flat tensor arguments."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.modalities = net.modalities

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        present = args[len(self.modalities)]
        inputs = dict(zip(self.modalities, args))
        out = self.net(inputs, {m: present[:, i] for i, m in enumerate(self.modalities)})
        return (out.logits, *(out.streams[m] for m in self.modalities))


@dataclass(frozen=True)
class ExportConfig:
    out: str  # the file to write
    format: str = "onnx"  # "torchscript" or "onnx"
    model: str | None = None  # a checkpoint; None: the default (untrained) model
    shape: str = "streaming"  # for the default model


@dataclass(frozen=True)
class ExportReport:
    path: str
    format: str
    kind: str  # "step" or "window"
    max_abs_error: float

    @property
    def ok(self) -> bool:
        return self.max_abs_error <= TOLERANCE


def example_inputs(model: nn.Module, *, batch: int = 1, seed: int = 0) -> tuple[list[str], list[torch.Tensor]]:
    """Named random inputs for the exported module of ``model`` (one frame, or one window)."""
    g = torch.Generator().manual_seed(seed)
    spec = model.config.input
    streaming = isinstance(model, StreamingFusionNet)
    names, xs = [], []
    for m in model.modalities:
        t = () if streaming else (spec.window,)
        if m == "skeleton":
            shape = (batch, spec.skeleton_channels) + t + (spec.joints,)
        else:
            shape = (batch, 3 if m == "rgb" else 1) + t + (spec.height, spec.width)
        names.append(m)
        xs.append(torch.randn(shape, generator=g))
    names.append("present")
    xs.append(torch.ones(batch, len(model.modalities)))
    if streaming:
        state = model.initial_state(batch)
        names += [f"state_{i}" for i in range(len(state))]
        xs += state
    return names, xs


def output_names(model: nn.Module) -> list[str]:
    names = ["logits"] + [f"logits_{m}" for m in model.modalities]
    if isinstance(model, StreamingFusionNet):
        names += [f"state_out_{i}" for i in range(len(model.initial_state(1)))]
    return names


def export_model(config: ExportConfig) -> ExportReport:
    """Export, reload the file with its runtime, run three steps (or one window) and compare to PyTorch."""
    if config.format not in FORMATS:
        raise BadInput(f"format must be one of {FORMATS}, got {config.format!r}")
    if config.model:
        model, meta = load_checkpoint(config.model)
    else:
        torch.manual_seed(0)
        model_config = ModelConfig(shape=config.shape)
        model = build_model(model_config).eval()
        meta = CheckpointMeta(config=model_config, training={"note": "untrained default model"})
    streaming = isinstance(model, StreamingFusionNet)
    module = (StepExport(model) if streaming else WindowExport(model)).eval()
    names, inputs = example_inputs(model)
    outs = output_names(model)
    path = Path(config.out)
    path.parent.mkdir(parents=True, exist_ok=True)

    with torch.inference_mode():
        reference = _run_steps(module, inputs, len(model.modalities), streaming, lambda *a: module(*a))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks frozen into the trace
        if config.format == "torchscript":
            traced = torch.jit.trace(module, tuple(inputs), check_trace=False)
            torch.jit.save(traced, str(path), _extra_files={"metadata.json": meta.to_json()})
            loaded = torch.jit.load(str(path))
            with torch.jit.optimized_execution(False):  # the check needs the numbers, not the JIT's warm-up
                got = _run_steps(module, inputs, len(model.modalities), streaming, lambda *a: loaded(*a))
        else:
            _export_onnx(module, inputs, names, outs, path, meta)
            run = _onnx_runner(path, names)
            got = _run_steps(module, inputs, len(model.modalities), streaming, run)
    error = max(float((a - b).abs().max()) for a, b in zip(reference, got))
    return ExportReport(path=str(path), format=config.format, kind="step" if streaming else "window",
                        max_abs_error=error)


def _run_steps(module, inputs, m, streaming, call) -> list[torch.Tensor]:
    """Three chained steps (state fed back) for a step export, one call for a window export."""
    if not streaming:
        return [torch.as_tensor(o) for o in call(*inputs)]
    state = list(inputs[m + 1:])
    collected = []
    for k in range(3):
        frames = [x * (1.0 + 0.5 * k) for x in inputs[:m]]
        out = [torch.as_tensor(o) for o in call(*frames, inputs[m], *state)]
        state = out[1 + m:]
        collected += out[:1 + m]
    return collected + state


def _export_onnx(module, inputs, names, outs, path: Path, meta: CheckpointMeta) -> None:
    try:
        import onnx
    except ImportError:
        raise BadInput("ONNX export needs the 'onnx' package: pip install onnx onnxruntime") from None
    dynamic = {n: {0: "batch"} for n in names + outs}
    torch.onnx.export(module, tuple(inputs), str(path), input_names=names, output_names=outs,
                      dynamic_axes=dynamic, opset_version=17, dynamo=False)
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "mmtm_live", meta.to_json()
    onnx.save(proto, str(path))


def _onnx_runner(path: Path, names: list[str]):
    try:
        import onnxruntime as ort
    except ImportError:
        raise BadInput("running an ONNX export needs 'onnxruntime': pip install onnxruntime") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = min(2, os.cpu_count() or 1)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(*args: torch.Tensor):
        feeds = {n: a.detach().numpy() for n, a in zip(names, args)}
        return [torch.from_numpy(o) for o in session.run(None, feeds)]

    return run


class OnnxStepper:
    """Run an exported streaming step in ONNX Runtime with the state kept inside: the engine's fast path.

    ``step(frames)`` takes one preprocessed frame per modality as numpy float32 arrays with a batch
    axis (rgb (1,3,H,W), depth (1,1,H,W), skeleton (1,C,J)); missing modalities follow the
    missing-modality rule. Returns (logits (1,K), {modality: (1,K)} of the present streams).
    ``labels``, ``modalities`` and ``config`` come from the metadata inside the file.
    """

    def __init__(self, path: str | os.PathLike, *, threads: int = 1) -> None:
        try:
            import onnx
            import onnxruntime as ort
        except ImportError:
            raise BadInput("running an ONNX export needs 'onnx' and 'onnxruntime': pip install onnx onnxruntime") from None
        path = Path(path)
        if not path.is_file():
            raise BadInput(f"ONNX model not found: {path}")
        try:
            props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:
            raise BadInput(f"{path}: not a readable ONNX model ({str(error).splitlines()[0][:160]})") from None
        if "mmtm_live" not in props:
            raise BadInput(f"{path}: not an mmtm-live export (no 'mmtm_live' metadata)")
        meta = CheckpointMeta.from_json(props["mmtm_live"], source=str(path))
        if meta.config.shape != "streaming":
            raise BadInput(f"{path}: a {meta.config.shape} export has no step; export a streaming model")
        self.config, self.labels, self.modalities = meta.config, meta.labels, meta.config.modalities
        self._inputs = [i.name for i in self.session.get_inputs()]
        self._state_names = [n for n in self._inputs if n.startswith("state_")]
        self._shapes = {i.name: i.shape for i in self.session.get_inputs()}
        self.frames_seen = 0
        self.reset()

    def reset(self) -> None:
        import numpy as np

        self._state = {n: np.zeros([1] + list(self._shapes[n][1:]), np.float32) for n in self._state_names}
        self.frames_seen = 0

    def step(self, frames):
        import numpy as np

        spec = self.config.input
        tails = {"rgb": (3, spec.height, spec.width), "depth": (1, spec.height, spec.width),
                 "skeleton": (spec.skeleton_channels, spec.joints)}
        feeds = dict(self._state)
        present = np.zeros((1, len(self.modalities)), np.float32)
        for i, m in enumerate(self.modalities):
            if m in frames:
                feeds[m] = np.ascontiguousarray(frames[m], dtype=np.float32)
                present[0, i] = 1.0
            else:
                feeds[m] = np.zeros((1,) + tails[m], np.float32)
        feeds["present"] = present
        out = self.session.run(None, feeds)
        m = len(self.modalities)
        self._state = dict(zip(self._state_names, out[1 + m:]))
        self.frames_seen += 1
        streams = {mod: out[1 + i] for i, mod in enumerate(self.modalities) if mod in frames}
        return out[0], streams
