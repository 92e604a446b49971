"""Load ``load_from`` and ``--resume`` checkpoints strictly: the weights must be the model's, all of them.

mmengine's runner loads checkpoints with ``strict=False`` and mentions the keys it skipped in one log line, so resuming
a distillation config from a plain mmseg checkpoint (or from another config's) trains a randomly initialised student
with the other run's optimizer state, and evaluating a student config with the wrong checkpoint reports the mIoU of
random weights; both exit 0. The runner calls ``after_load_checkpoint`` with the checkpoint it read, before it copies
the weights into the model: this hook loads them there itself
(:func:`~mmseg_kd.checkpoint.state_dict_pairing.load_paired_state_dict`) and stops the run with every missing,
unexpected and mis-shaped key listed, or rewrites the checkpoint's state dict to exactly what it loaded, which the
runner then loads again (the same values). When loading (not resuming) a distillation checkpoint into a student
config, the ``student.*`` weights are taken; a plain (e.g. exported) checkpoint into a distillation config becomes its
student. A resumed checkpoint must also have the optimizer's parameter groups of the config: a connector added to the
config since the checkpoint was written is named instead of torch's parameter-group size error.

Whether a load is a resume is read from the runner's config (``resume``, as ``Runner.from_cfg`` and the tools set it).
``tools/train.py`` and ``tools/test.py`` add the hook to every run; ``--partial-load`` sets ``allow_partial_load=True``
(load what matches, report the rest), as does listing the hook in ``custom_hooks`` with that argument.
"""
from typing import Dict, List

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import find_latest_checkpoint
from mmseg.registry import HOOKS

from mmseg_kd.checkpoint.safe_loading import CheckpointMismatchError
from mmseg_kd.checkpoint.state_dict_pairing import load_paired_state_dict
from mmseg_kd.utils.user_input_error import UserInputError


def _param_group_sizes(optim_wrapper: OptimWrapper) -> Dict[str, List[int]]:
    """Number of parameters in each parameter group, per optimizer (``''`` for a single one)."""
    wrappers = dict(optim_wrapper.items()) if isinstance(optim_wrapper, OptimWrapperDict) else {'': optim_wrapper}
    return {name: [len(group['params']) for group in wrapper.optimizer.param_groups]
            for name, wrapper in wrappers.items()}


def _saved_param_group_sizes(optimizer_state: dict) -> Dict[str, List[int]]:
    """The same numbers from a checkpoint's ``optimizer`` entry."""
    states = {'': optimizer_state} if 'param_groups' in optimizer_state else optimizer_state
    return {name: [len(group['params']) for group in state['param_groups']] for name, state in states.items()}


@HOOKS.register_module()
class CheckpointPairingHook(Hook):
    """Stop a run whose ``load_from``/resume checkpoint does not hold exactly the model's weights.

    Args:
        allow_partial_load: load the weights that match (name and shape) and log the others instead of stopping.
            The optimizer state of a resumed checkpoint must match in any case.
    """

    priority = 'LOWEST'  # after any hook that renames keys

    def __init__(self, allow_partial_load: bool = False):
        if not isinstance(allow_partial_load, bool):
            raise UserInputError(f'CheckpointPairingHook: allow_partial_load must be True or False, '
                                 f'got {allow_partial_load!r}')
        self.allow_partial_load = allow_partial_load

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        resume = bool(runner.cfg.get('resume', False))
        path = runner.cfg.get('load_from') or (find_latest_checkpoint(runner.work_dir) if resume else None)
        what = f"{'resume' if resume else 'load_from'} checkpoint {path!r}"
        config_hint = runner.cfg.filename or 'the config'
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        weights = checkpoint.get('state_dict', checkpoint)
        paired = load_paired_state_dict(model, weights, what=what, config_hint=config_hint, resume=resume,
                                        allow_partial=self.allow_partial_load)
        for note in paired.notes:
            runner.logger.info(note)
        if paired.left_out:
            runner.logger.warning(paired.left_out)
        if 'state_dict' in checkpoint:
            checkpoint['state_dict'] = paired.state_dict
        else:
            checkpoint.clear()
            checkpoint.update(paired.state_dict)
        if resume and 'optimizer' in checkpoint and isinstance(runner.optim_wrapper, OptimWrapper):
            self._check_optimizer_state(checkpoint['optimizer'], runner.optim_wrapper, what, config_hint)

    @staticmethod
    def _check_optimizer_state(optimizer_state: dict, optim_wrapper: OptimWrapper, what: str,
                               config_hint: str) -> None:
        saved, built = _saved_param_group_sizes(optimizer_state), _param_group_sizes(optim_wrapper)
        if saved != built:
            if set(saved) == set(built) == {''}:
                saved, built = saved[''], built['']
            raise CheckpointMismatchError(
                f"{what}: its optimizer state does not fit the optimizer built from {config_hint}: parameters per "
                f"group {saved} in the checkpoint, {built} now. The trainable parameters or "
                "optim_wrapper.paramwise_cfg changed since the checkpoint was written (e.g. a connector was added, "
                "or layers frozen). --resume continues the run with its optimizer state and needs the config it "
                "was trained with; to start a new run from its weights, use --cfg-options load_from=CHECKPOINT "
                "(without --resume).")
