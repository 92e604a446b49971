"""A module that runs a frozen teacher segmentor without making it a submodule.

The teacher is kept in a tuple, so it is absent from ``state_dict()`` (checkpoints), ``parameters()`` (the optimizer)
and DDP, yet it follows ``.to()``/``.cuda()``/``.half()`` with its owner. :class:`SegDistiller` and MasKD's
:class:`ReceptiveTokenLearner` both hold their teacher this way.
"""
from torch import nn


class FrozenTeacherHolder:
    """Mixin for an ``nn.Module`` subclass (list it first among the bases) that holds a teacher outside its
    submodules: call :meth:`hold_teacher` once the teacher is built."""

    def hold_teacher(self, teacher: nn.Module) -> None:
        """Keep ``teacher`` (not as a submodule) and freeze its parameters."""
        teacher.requires_grad_(False)
        self._teacher_holder = (teacher,)

    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher segmentor (not a submodule; see the module docstring)."""
        return self._teacher_holder[0]

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self.teacher._apply(fn, recurse)
        return self
