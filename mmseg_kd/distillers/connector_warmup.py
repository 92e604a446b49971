"""Connector-only warm-up: the first iterations train the connectors alone (the Overhaul lineage's epoch 0).

During the warm-up the student (and a loss's student-side refinement) runs without gradient, so the optimizer skips
its parameters entirely (no gradient, no weight decay, no momentum) while its batch-norm statistics still update; the
connectors learn to map the student's features onto the teacher's. Afterwards everything trains, or, with
``freeze_after=True`` (AttnFD's reference), the connectors stay fixed while gradients still flow through them to the
student. Under DDP both phases leave parameters without gradient in some iterations: set
``find_unused_parameters = True`` (``tools/train.py`` refuses a distributed run without it).

Config: ``SegDistiller(connector_warmup=dict(iters=882, freeze_after=False))``.
"""
import contextlib
from typing import Sequence

import torch
from torch import nn


class ConnectorWarmup:
    """When the student and the connectors learn.

    Args:
        iters: number of first training iterations in which only the connectors learn (0: none).
        freeze_after: freeze the connectors once the warm-up is over.
    """

    def __init__(self, iters: int = 0, freeze_after: bool = False):
        if isinstance(iters, bool) or not isinstance(iters, int) or iters < 0:
            raise ValueError(f'connector_warmup.iters must be an integer >= 0, got {iters!r}')
        if not isinstance(freeze_after, bool):
            raise ValueError(f'connector_warmup.freeze_after must be True or False, got {freeze_after!r}')
        self.iters = iters
        self.freeze_after = freeze_after

    @property
    def active(self) -> bool:
        """Whether the connectors ever learn differently from the student."""
        return self.iters > 0 or self.freeze_after

    def problem(self, connectors: Sequence[nn.Module]) -> str:
        """Why the warm-up cannot act (no connector with parameters), '' otherwise."""
        if self.active and not any(True for connector in connectors for _ in connector.parameters()):
            return ('connector_warmup acts on connectors, but no distillation loss has a connector with parameters: '
                    "add connector=dict(type='ConvBNConnector') to a loss entry or drop connector_warmup")
        return ''

    def in_warmup(self, iteration: int) -> bool:
        return iteration < self.iters

    def student_gradient(self, iteration: int):
        """The context the student runs in at ``iteration``: ``torch.no_grad()`` during the warm-up."""
        return torch.no_grad() if self.in_warmup(iteration) else contextlib.nullcontext()

    def set_connectors_trainable(self, connectors: nn.Module, iteration: int) -> None:
        """Connectors learn during the warm-up and afterwards unless ``freeze_after``."""
        connectors.requires_grad_(self.in_warmup(iteration) or not self.freeze_after)
