"""Gathering rows of a tensor from every process of the default process group.

Both functions concatenate along dim 0 in rank order and accept a different number of rows on each rank
(the rows are padded to the longest for ``torch.distributed.all_gather`` and the padding is removed).
Outside a distributed run (no initialised process group: ``mmengine.dist.get_world_size()`` is 1) they return
the tensor itself.

* :func:`all_gather_rows` is a constant (no gradient): e.g. teacher embeddings to enqueue.
* :func:`all_gather_with_grad` lets gradients flow back to the rank that owns each row: in backward the
  gradients of the gathered tensor are summed over ranks (every rank's loss may depend on every rank's
  rows) and each rank keeps the slice of its own rows. With DDP averaging parameter gradients, the
  result is the gradient of the mean over ranks of the per-rank losses, as for any local loss.
"""
from typing import List

import torch
import torch.distributed as dist
from mmengine.dist import get_rank, get_world_size


def _rows_per_rank(tensor: torch.Tensor, world_size: int) -> List[int]:
    count = torch.tensor([tensor.shape[0]], dtype=torch.long, device=tensor.device)
    counts = [torch.zeros_like(count) for _ in range(world_size)]
    dist.all_gather(counts, count)
    return [int(c) for c in counts]


def _gather_padded(tensor: torch.Tensor, counts: List[int]) -> torch.Tensor:
    longest = max(max(counts), 1)
    padded = tensor.new_zeros((longest, *tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    gathered = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(gathered, padded)
    return torch.cat([rows[:count] for rows, count in zip(gathered, counts)])


@torch.no_grad()
def all_gather_rows(tensor: torch.Tensor) -> torch.Tensor:
    """Rows (n_r, ...) of every rank r → (Σ_r n_r, ...) in rank order, without gradient."""
    world_size = get_world_size()
    if world_size == 1:
        return tensor
    return _gather_padded(tensor.detach().contiguous(), _rows_per_rank(tensor, world_size))


class _AllGatherWithGrad(torch.autograd.Function):

    @staticmethod
    def forward(ctx, tensor):
        rank = get_rank()
        counts = _rows_per_rank(tensor, get_world_size())
        ctx.own_rows = (sum(counts[:rank]), sum(counts[:rank + 1]))
        return _gather_padded(tensor.contiguous(), counts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start, end = ctx.own_rows
        return grad[start:end]


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Rows (n_r, ...) of every rank r → (Σ_r n_r, ...) in rank order; gradients reach the owning rank."""
    if get_world_size() == 1:
        return tensor
    return _AllGatherWithGrad.apply(tensor)
