import pytest
import torch
from torch import nn

from fusion.mmtm import MMTM


def _randomise(module: nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)


def test_hidden_sizes_of_both_variants():
    paper = MMTM([64, 32], ratio=4)
    official = MMTM([64, 32], ratio=4, variant="official")
    assert paper.hidden == int(96 / 4) == 24
    assert official.hidden == int(2 * 96 / 4) == 48
    assert isinstance(paper.squeeze, nn.Linear) and paper.squeeze.in_features == 96
    assert paper.squeeze.out_features == 24
    assert [l.out_features for l in official.excite] == [64, 32]
    assert all(l.in_features == 48 for l in official.excite)
    assert MMTM([10, 7, 5], ratio=2.5).hidden == int(22 / 2.5)


def test_paper_variant_is_identity_at_initialisation():
    torch.manual_seed(0)
    mmtm = MMTM([8, 4, 6])
    xs = (torch.randn(2, 8, 3, 5, 5), torch.randn(2, 4, 3, 21), torch.randn(2, 6))
    for x, y in zip(xs, mmtm(*xs)):
        assert torch.equal(x, y)


def test_arithmetic_matches_hand_computation_paper():
    mmtm = MMTM([2, 1], ratio=1.5)  # hidden = int(3 / 1.5) = 2
    with torch.no_grad():
        mmtm.squeeze.weight.copy_(torch.tensor([[1.0, 0.0, 1.0], [0.0, -1.0, 0.0]]))
        mmtm.squeeze.bias.copy_(torch.tensor([0.0, 0.5]))
        mmtm.excite[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        mmtm.excite[0].bias.copy_(torch.tensor([0.0, -1.0]))
        mmtm.excite[1].weight.copy_(torch.tensor([[2.0, -1.0]]))
        mmtm.excite[1].bias.copy_(torch.tensor([0.25]))
    a = torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])  # (B=1, C=2, T=2): means 2, 2
    b = torch.tensor([[[[0.0, 1.0, 2.0]]]])  # (1, 1, 1, 3): mean 1
    # S = [2, 2, 1]; Z = relu([2 + 1, -2 + 0.5]) = [3, 0]
    # E_a = [3, 0 - 1] = [3, -1]; E_b = [6 + 0.25]
    ya, yb = mmtm(a, b)
    sig = torch.sigmoid
    ga = 2 * sig(torch.tensor([3.0, -1.0]))
    gb = 2 * sig(torch.tensor(6.25))
    torch.testing.assert_close(ya, a * ga.view(1, 2, 1))
    torch.testing.assert_close(yb, b * gb)


def test_arithmetic_matches_hand_computation_official():
    mmtm = MMTM([1, 1], ratio=4, variant="official")  # hidden = int(2 * 2 / 4) = 1
    with torch.no_grad():
        mmtm.squeeze.weight.copy_(torch.tensor([[1.0, -2.0]]))
        mmtm.squeeze.bias.copy_(torch.tensor([1.0]))
        mmtm.excite[0].weight.fill_(0.5)
        mmtm.excite[0].bias.fill_(0.0)
        mmtm.excite[1].weight.fill_(-1.0)
        mmtm.excite[1].bias.fill_(1.0)
    a = torch.full((1, 1, 4, 4), 3.0)
    b = torch.full((1, 1, 5), 0.5)
    # Z = relu(3 - 1 + 1) = 3; E = [1.5, -2]; gate = sigmoid
    ya, yb = mmtm(a, b)
    torch.testing.assert_close(ya, a * torch.sigmoid(torch.tensor(1.5)))
    torch.testing.assert_close(yb, b * torch.sigmoid(torch.tensor(-2.0)))


@pytest.mark.parametrize("variant", ["paper", "official"])
def test_mixed_ranks_and_shapes_keep_their_shapes(variant):
    mmtm = MMTM([16, 8, 12, 4, 6], variant=variant)
    xs = (
        torch.randn(3, 16, 4, 7, 7),  # video (B, C, T, H, W)
        torch.randn(3, 8, 4, 14, 14),  # depth at another spatial size
        torch.randn(3, 12, 4, 21),  # skeleton (B, C, T, J)
        torch.randn(3, 4, 50),  # audio (B, C, T)
        torch.randn(3, 6),  # a vector (B, C)
    )
    ys = mmtm(*xs)
    assert isinstance(ys, tuple) and len(ys) == 5
    assert [y.shape for y in ys] == [x.shape for x in xs]


@pytest.mark.parametrize("variant", ["paper", "official"])
def test_every_parameter_gets_a_gradient(variant):
    mmtm = MMTM([6, 5], variant=variant)
    _randomise(mmtm)
    a = torch.randn(2, 6, 3, 4, 4, requires_grad=True)
    b = torch.randn(2, 5, 3, 21, requires_grad=True)
    ya, yb = mmtm(a, b)
    (ya.square().sum() + yb.sin().sum()).backward()
    for name, p in mmtm.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0


def test_paper_variant_gradients_flow_at_initialisation():
    # Zero-initialised excitation must still learn: its weights get a gradient from the first step.
    mmtm = MMTM([6, 5])
    a, b = torch.randn(2, 6, 8), torch.randn(2, 5, 8)
    ya, yb = mmtm(a, b)
    (ya * torch.randn_like(ya)).sum().add((yb * torch.randn_like(yb)).sum()).backward()
    assert all(l.weight.grad.abs().sum() > 0 for l in mmtm.excite)


def test_non_contiguous_and_channels_last_inputs():
    mmtm = MMTM([8, 4])
    _randomise(mmtm)
    video = torch.randn(2, 8, 3, 6, 6)
    skel = torch.randn(2, 21, 3, 4).permute(0, 3, 2, 1)  # (B, 4, 3, 21), non-contiguous
    assert not skel.is_contiguous()
    expected = mmtm(video, skel.contiguous())
    got = mmtm(video, skel)
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e)

    v2d = torch.randn(2, 8, 9, 9).to(memory_format=torch.channels_last)
    v3d = torch.randn(2, 4, 3, 5, 5).to(memory_format=torch.channels_last_3d)
    y2d, y3d = mmtm(v2d, v3d)
    assert y2d.is_contiguous(memory_format=torch.channels_last)
    assert y3d.is_contiguous(memory_format=torch.channels_last_3d)
    ref = mmtm(v2d.contiguous(), v3d.contiguous())
    torch.testing.assert_close(y2d, ref[0])
    torch.testing.assert_close(y3d, ref[1])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_and_half_inputs(dtype):
    mmtm = MMTM([8, 4], variant="official")
    _randomise(mmtm)
    video = torch.randn(2, 8, 3, 6, 6)
    skel = torch.randn(2, 4, 3, 21)
    ref = mmtm(video, skel)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = mmtm(video.to(dtype), skel.to(dtype))
    for r, o in zip(ref, out):
        assert o.dtype == dtype
        assert torch.isfinite(o.float()).all()
        torch.testing.assert_close(o.float(), r, atol=0.05, rtol=0.05)


def test_half_module_without_autocast():
    mmtm = MMTM([8, 4]).to(torch.bfloat16)
    a = torch.randn(1, 8, 2, 3, 3, dtype=torch.bfloat16)
    b = torch.randn(1, 4, 2, 21, dtype=torch.bfloat16)
    ya, yb = mmtm(a, b)
    assert ya.dtype == yb.dtype == torch.bfloat16
    assert torch.equal(ya, a)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(channels=[8]), "two or more"),
        (dict(channels=[8, 0]), "positive"),
        (dict(channels=[8, 4], variant="late"), "variant"),
        (dict(channels=[1, 1], ratio=8), "hidden"),
    ],
)
def test_bad_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MMTM(**kwargs)


def test_bad_inputs_name_the_problem():
    mmtm = MMTM([8, 4])
    with pytest.raises(ValueError, match="2 modalities"):
        mmtm(torch.randn(1, 8, 3))
    with pytest.raises(ValueError, match=r"\(B, 4, ...\)"):
        mmtm(torch.randn(1, 8, 3), torch.randn(1, 5, 3))
    with pytest.raises(ValueError, match="batch"):
        mmtm(torch.randn(2, 8, 3), torch.randn(1, 4, 3))
