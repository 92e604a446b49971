"""Put the checked loading steps into every dataloader pipeline of a config (``tools/train.py``, ``tools/test.py``).

Every dataset's pipeline gets ``CheckedLoadImageFromFile`` in place of ``LoadImageFromFile`` and
``CheckedLoadAnnotations`` in place of ``LoadAnnotations`` (``mmseg_kd/datasets/checked_loading.py``): the same
loading, plus an error that names a file that cannot be decoded, and a check of every label value against the
dataset's classes, where the sample is loaded. The arguments of the replaced steps are kept; ``num_classes`` is the
number of the dataset's classes (its ``metainfo.classes`` if the config gives them, else its class's) and
``ignore_index`` the dataset's (mmseg's default 255), unless the step already sets them.

Configs need no change. To turn the checks off (e.g. for a dataset whose labels are knowingly outside its classes),
set ``check_data = False`` in the config or pass ``--cfg-options check_data=False``; a pipeline that already uses the
checked steps, with its own arguments, is left as it is.
"""
from typing import Optional, Sequence

from mmengine.config import Config

from mmseg_kd.datasets.dataset_configs import DEFAULT_IGNORE_INDEX, dataset_class_count, leaf_datasets

#: Stock loading step → its checked replacement.
CHECKED_STEPS = {'LoadImageFromFile': 'CheckedLoadImageFromFile', 'LoadAnnotations': 'CheckedLoadAnnotations'}
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

def checked_step(step, num_classes: Optional[int], ignore_index: int):
    """``step`` with a stock loading step replaced by its checked one (steps holding ``transforms``, such as
    ``TestTimeAug``, have theirs replaced)."""
    if isinstance(step, (list, tuple)):
        return [checked_step(inner, num_classes, ignore_index) for inner in step]
    if not isinstance(step, dict):
        return step
    step = dict(step)
    step_type = step.get('type')
    name = step_type.rsplit('.', 1)[-1] if isinstance(step_type, str) else None
    if name in CHECKED_STEPS:
        step['type'] = CHECKED_STEPS[name]
        if name == 'LoadAnnotations':
            step.setdefault('num_classes', num_classes)
            step.setdefault('ignore_index', ignore_index)
    if isinstance(step.get('transforms'), (list, tuple)):
        step['transforms'] = checked_step(step['transforms'], num_classes, ignore_index)
    return step


def add_data_checks(cfg: Config, loaders: Sequence[str] = LOADERS) -> None:
    """Replace the loading steps of the dataloaders' pipelines by the checked ones (see the module docstring).

    Raises:
        ValueError: ``check_data`` is set to something else than ``True`` or ``False``.
    """
    enabled = cfg.get('check_data', True)
    if not isinstance(enabled, bool):
        raise ValueError(f'check_data must be True or False, got {enabled!r}')
    if not enabled:
        return
    for loader in loaders:
        if not cfg.get(loader):
            continue
        for _, dataset in leaf_datasets(cfg[loader]['dataset']):
            if dataset.get('pipeline'):
                dataset['pipeline'] = checked_step(list(dataset['pipeline']), dataset_class_count(dataset),
                                                   dataset.get('ignore_index', DEFAULT_IGNORE_INDEX))
