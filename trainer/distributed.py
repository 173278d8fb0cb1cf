"""Several processes of one run (``accelerate launch --num_processes N -m trainer …``).

A launcher (accelerate, torchrun) starts N copies of the trainer and tells each its place in
``RANK`` / ``WORLD_SIZE`` / ``LOCAL_RANK``. :func:`world` reads them once: with one process
(no launcher, or ``--num_processes 1``) every operation here is a no-op and nothing is
imported. With several, the first call sets up torch.distributed through accelerate's
``PartialState`` (gloo on the CPU, NCCL on GPUs, each rank on its own GPU), the same state the
TRL trainers then use.

What the methods do with it:

* only the main process (rank 0) writes the run folder (``RunFolder`` checks ``main``);
* the hand-written loops (ppo, pretrain) give each rank its slice of every batch
  (:meth:`World.shard`), average the gradients over the ranks after each backward pass
  (:meth:`World.average_gradients`, what DDP does) and reduce their statistics
  (:meth:`World.sum`, :meth:`World.mean`, :meth:`World.gather`);
* the TRL methods get ``batch_size / N`` examples per process (``trainer.hf``), the Trainer
  doing the rest;
* a cancel (SIGTERM to any rank) stops every rank at the same step (:meth:`World.any`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from trainer.config import field_error

#: The methods that split each batch over the processes (the others, such as generate, run
#: whole on every rank and write from rank 0).
SHARDED_METHODS = ("reward", "sft", "dpo", "pretrain", "ppo", "rloo")

_WORLD: World | None = None


@dataclass(frozen=True)
class World:
    """This process's place among the processes of a run."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: str = "cpu"  # where collective operations put their tensors (NCCL needs the GPU)

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def several(self) -> bool:
        return self.size > 1

    def shard(self, n: int) -> slice:
        """This rank's rows of a batch of ``n`` (n a multiple of the size): consecutive slices,
        rank 0 first, so the ranks' slices in order are the whole batch."""
        per = n // self.size
        return slice(self.rank * per, (self.rank + 1) * per)

    # -- collectives (each a no-op with one process) -----------------------------------------
    def sum(self, tensor):
        """The element-wise sum over the ranks (a new tensor, on the tensor's device)."""
        if not self.several:
            return tensor
        import torch.distributed as dist

        out = tensor.detach().to(self.device, copy=True)
        dist.all_reduce(out)
        return out.to(tensor.device)

    def mean(self, value: float) -> float:
        """The mean of a number over the ranks (of per-rank means of equal-sized shards: the
        mean over the whole batch)."""
        if not self.several:
            return float(value)
        import torch

        return float(self.sum(torch.tensor([float(value)], dtype=torch.float64))) / self.size

    def gather(self, tensor):
        """The ranks' tensors (equal shapes) concatenated along dim 0, rank 0 first."""
        if not self.several:
            return tensor
        import torch
        import torch.distributed as dist

        local = (
            tensor.detach()
            .to(self.device, torch.uint8 if tensor.dtype == torch.bool else None)
            .contiguous()
        )
        parts = [torch.empty_like(local) for _ in range(self.size)]
        dist.all_gather(parts, local)
        return torch.cat(parts).to(tensor.device, tensor.dtype)

    def gather_objects(self, items: list) -> list:
        """The ranks' lists (of picklable things, such as completions) joined, rank 0 first."""
        if not self.several:
            return list(items)
        import torch.distributed as dist

        parts: list = [None] * self.size
        dist.all_gather_object(parts, list(items))
        return [x for part in parts for x in part]

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (a cancel seen by one rank stops all)."""
        if not self.several:
            return bool(flag)
        import torch

        return bool(self.sum(torch.tensor([int(bool(flag))])).item())

    def broadcast_parameters(self, params) -> None:
        """Rank 0's values into every rank's parameters (the same start everywhere)."""
        if not self.several:
            return
        import torch
        import torch.distributed as dist

        with torch.no_grad():
            for p in params:
                buf = p.data.to(self.device)
                dist.broadcast(buf, src=0)
                p.data.copy_(buf.to(p.device))

    def average_gradients(self, params) -> None:
        """Each gradient replaced by its mean over the ranks, in one flat all-reduce (DDP's
        job: after it every rank steps its optimizer with the same gradient)."""
        if not self.several:
            return
        import torch
        import torch.distributed as dist

        params = [p for p in params if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1).to(self.device, torch.float32) for g in grads])
        dist.all_reduce(flat)
        flat /= self.size
        offset = 0
        for p, g in zip(params, grads, strict=True):
            n = g.numel()
            p.grad = flat[offset : offset + n].view_as(g).to(g.device, g.dtype)
            offset += n


def check_same_weights(params) -> None:
    """Raise when the processes' copies of the trained parameters are not identical.

    Every process steps its optimizer with the same averaged gradient, so their weights stay
    equal to the bit; a difference means the gradients were not averaged (a model left
    unwrapped), and rank 0's weights alone would be saved as if they were the run's."""
    w = world()
    if not w.several:
        return
    import torch

    params = list(params)
    local = torch.stack(
        [torch.stack([p.detach().double().sum(), p.detach().double().pow(2).sum()]) for p in params]
    )
    every = w.gather(local.unsqueeze(0))
    worst = float((every - every[0]).abs().max())
    if worst != 0.0:
        raise RuntimeError(
            f"the {w.size} processes ended with different weights (checksums differ by {worst:.3g}): "
            "their gradients were not averaged"
        )


def world() -> World:
    """This process's :class:`World` (set up on the first call)."""
    global _WORLD
    if _WORLD is None:
        _WORLD = _connect()
    return _WORLD


def launched_size() -> int:
    """How many processes the launcher started (1 without one); reads only the environment."""
    from trainer.runtime import launcher_count

    return launcher_count("WORLD_SIZE")


def _connect() -> World:
    size = launched_size()
    if size == 1:
        return World()
    from accelerate import PartialState

    use_cpu = not _cuda_available() or os.environ.get("ACCELERATE_USE_CPU", "").lower() in (
        "1",
        "true",
        "yes",
    )
    state = PartialState(cpu=use_cpu)
    device = str(state.device) if str(state.device).startswith("cuda") else "cpu"
    return World(
        rank=state.process_index,
        size=state.num_processes,
        local_rank=state.local_process_index,
        device=device,
    )


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def check_divisible(cfg: Any, size: int) -> None:
    """Refuse a batch that does not split evenly over the processes, naming the field: each
    process takes ``batch_size / N`` examples of every step, so the global batch (and the
    result) is the same as with one process."""
    if size <= 1:
        return
    for name in ("batch_size", "minibatch_size"):
        value = getattr(cfg, name, None)
        if value is not None and value % size:
            raise field_error(
                name,
                f"{value} does not divide among {size} processes: each process takes {name} / {size} "
                f"examples of every step; use a multiple of {size}",
            )
