import numpy as np
import pytest
import torch

from app.model_runner import ModelRunner, RunnerConfig, default_model_for, pick_device
from fusion.errors import BadInput
from tests.app.engine_fixtures import SPEC, tiny_checkpoint


def frames(batch, seed, modalities=("rgb", "depth", "skeleton")):
    g = np.random.default_rng(seed)
    shapes = {"rgb": (3, SPEC.height, SPEC.width), "depth": (1, SPEC.height, SPEC.width), "skeleton": (8, 21)}
    return {m: g.standard_normal((batch, *shapes[m])).astype(np.float32) for m in modalities}


def run_steps(runner, n=9, batch=2):
    state = runner.initial_state(batch)
    out = []
    for k in range(n):
        logits, state = runner.step(frames(batch, k), np.ones((batch, 3), np.float32), state)
        out.append(logits)
    return np.stack(out)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("m") / "tiny.pt")


def test_backends_agree_on_the_streaming_step(ckpt):
    eager = run_steps(ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend="eager", warmup=1)))
    script = run_steps(ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend="torchscript", warmup=1)))
    ort = run_steps(ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend="onnxruntime", warmup=1)))
    assert eager.shape == (9, 2, 17) and np.isfinite(eager).all()
    assert np.abs(eager[0] - eager[-1]).max() > 1e-3  # the inputs matter
    np.testing.assert_allclose(script, eager, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(ort, eager, rtol=1e-5, atol=1e-4)


def test_step_matches_the_model_and_batched_states_are_independent(ckpt):
    runner = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", warmup=0))
    model = runner.model
    model.reset()
    with torch.inference_mode():
        ref = [model.step({m: torch.from_numpy(x) for m, x in frames(2, k).items()}).logits.numpy() for k in range(9)]
    np.testing.assert_allclose(run_steps(runner), np.stack(ref), rtol=1e-5, atol=1e-4)
    # two streams stepped together equal each stepped alone
    a, b = runner.initial_state(1), runner.initial_state(1)
    for k in range(9):
        f = frames(2, 10 + k)
        joint, state = runner.step(f, np.ones((2, 3), np.float32), ModelRunner.stack_states([a, b]))
        a, b = ModelRunner.split_state(state, [1, 1])
        alone = runner.step({m: x[1:] for m, x in f.items()}, np.ones((1, 3), np.float32),
                            ModelRunner.split_state(ModelRunner.stack_states([a, b]), [1, 1])[1])
    np.testing.assert_allclose(joint[1], run_steps_single(runner, 9), rtol=1e-5, atol=1e-4)
    assert alone[0].shape == (1, 17)


def run_steps_single(runner, n):
    state = runner.initial_state(1)
    for k in range(n):
        f = frames(2, 10 + k)
        logits, state = runner.step({m: x[1:] for m, x in f.items()}, np.ones((1, 3), np.float32), state)
    return logits[0]


def test_missing_modality_is_fed_zeros(ckpt):
    runner = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", warmup=0))
    state = runner.initial_state(1)
    f = frames(1, 0, ("skeleton",))
    logits, _ = runner.step(f, np.array([[0, 0, 1]], np.float32), state)
    full = dict(f, rgb=np.zeros((1, 3, SPEC.height, SPEC.width), np.float32),
                depth=np.zeros((1, 1, SPEC.height, SPEC.width), np.float32))
    same, _ = runner.step(full, np.array([[0, 0, 1]], np.float32), runner.initial_state(1))
    np.testing.assert_allclose(logits, same, atol=1e-6)


def test_windowed_model_backends_agree(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "w.pt", shape="windowed", temporal_strides=(1, 1, 2, 2))
    g = np.random.default_rng(0)
    windows = {"rgb": g.standard_normal((2, 3, 8, 24, 32)).astype(np.float32),
               "depth": g.standard_normal((2, 1, 8, 24, 32)).astype(np.float32),
               "skeleton": g.standard_normal((2, 8, 8, 21)).astype(np.float32)}
    present = np.ones((2, 3), np.float32)
    outs = [ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend=b, warmup=1)).window(windows, present)
            for b in ("eager", "torchscript", "onnxruntime")]
    assert outs[0].shape == (2, 17)
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(outs[2], outs[0], rtol=1e-5, atol=1e-4)


def test_bad_settings_are_clear_errors(ckpt, tmp_path):
    with pytest.raises(BadInput, match="not found"):
        ModelRunner.load(RunnerConfig(model=str(tmp_path / "none.pt")))
    with pytest.raises(BadInput, match="needs a CUDA GPU"):
        ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", precision="fp16"))
    with pytest.raises(BadInput, match="backend"):
        ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend="tvm"))
    if not torch.cuda.is_available():
        with pytest.raises(BadInput, match="CUDA"):
            pick_device("cuda")
    assert pick_device("cpu").type == "cpu"


def test_model_picking_rule():
    assert default_model_for(["color", "depth", "skeleton"]).name == "model_default.pt"
    without_depth = default_model_for(["color", "skeleton"]).name
    from app.model_runner import SKELETON_MODEL
    assert without_depth == ("model_skeleton.pt" if SKELETON_MODEL.is_file() else "model_default.pt")


def test_rgb_differences_model_steps_alike_in_every_backend_and_windows_take_the_frame_before(tmp_path):
    ckpt = tiny_checkpoint(tmp_path / "motion.pt", rgb_input="frames+motion")
    eager = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend="eager", warmup=1))
    ort = ModelRunner.load(RunnerConfig(model=str(ckpt), device="cpu", backend="onnxruntime", warmup=1))
    steps = run_steps(eager, n=SPEC.window + 3)
    np.testing.assert_allclose(run_steps(ort, n=SPEC.window + 3), steps, rtol=1e-5, atol=1e-4)
    assert eager.window_frames == SPEC.window + 1  # the engine's buffers keep the frame before the window
    seq = [frames(2, k) for k in range(SPEC.window + 3)]
    windows = {m: np.stack([f[m] for f in seq[-eager.window_frames:]], axis=2) for m in seq[0]}
    np.testing.assert_allclose(eager.window(windows, np.ones((2, 3), np.float32)), steps[-1], rtol=1e-5, atol=1e-4)
