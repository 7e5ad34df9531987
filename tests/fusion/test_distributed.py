"""DDP on CPU: two gloo processes train together; their weights stay identical and rank 0 writes."""

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from fusion.build import build_model
from fusion.checkpoint import read_checkpoint
from fusion.train import train
from fusion.train_config import TrainConfig
from tests.fusion.train_data import TINY, separable_clips


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    cfg = TrainConfig(data=out_dir, out=os.path.join(out_dir, "ddp.pt"), model=TINY, epochs=1, batch=4, lr=1e-2,
                      augment=None, val_fraction=0.0, progress=False, device="cpu", max_steps_per_epoch=2)

    def dump(epoch, model):
        torch.save(model.state_dict(), os.path.join(out_dir, f"rank{rank}.pt"))

    train(cfg, clips=separable_clips(n=24), on_epoch=dump)


@pytest.mark.timeout(120)
def test_two_gloo_processes_train_in_step(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    a = torch.load(tmp_path / "rank0.pt", weights_only=True)
    b = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for k in a:
        assert torch.equal(a[k], b[k]) or "running" in k or "num_batches" in k, k  # gradients were averaged
    meta, state = read_checkpoint(tmp_path / "ddp.pt")
    assert meta.training["world_size"] == 2
    assert meta.training["epochs"] == 1
    torch.manual_seed(0)  # train() seeds with the config's seed before building the model
    fresh = build_model(meta.config).state_dict()
    moved = [k for k in fresh if fresh[k].is_floating_point() and not torch.equal(fresh[k], state[k])]
    assert len(moved) > len(fresh) // 2  # training happened
