"""Walks over dataset configs: the datasets inside wrappers, a dataset's classes and image suffix, and the input size a
training config really feeds its model.

These read configs (and, for :func:`training_input_size`'s last resort, one training sample); they know nothing of
distillers or runners, so that every layer above (``engine``, the tools) asks the same questions the same way.
"""
import copy
import inspect
from typing import Iterator, Optional, Tuple

from mmseg.registry import DATASETS

#: mmseg's ``BaseSegDataset`` ignore index.
DEFAULT_IGNORE_INDEX = 255
#: Pipeline steps whose ``crop_size`` fixes the (H, W) of every training sample.
CROP_STEPS = ('RandomCrop',)


def nested_datasets(dataset: dict, where: str = 'dataset') -> Iterator[Tuple[str, dict]]:
    """Every dataset config in ``dataset``, ConcatDataset/RepeatDataset-style wrappers included, with its path in the
    config (``where`` is the path of ``dataset`` itself, e.g. ``'train_dataloader.dataset'``)."""
    yield where, dataset
    if 'datasets' in dataset:
        for index, inner in enumerate(dataset['datasets']):
            yield from nested_datasets(inner, f'{where}.datasets[{index}]')
    elif 'dataset' in dataset:
        yield from nested_datasets(dataset['dataset'], f'{where}.dataset')


def leaf_datasets(dataset: dict, where: str = 'dataset') -> Iterator[Tuple[str, dict]]:
    """The datasets inside ConcatDataset/RepeatDataset-style wrappers, with their paths in the config."""
    for path, inner in nested_datasets(dataset, where):
        if 'datasets' not in inner and 'dataset' not in inner:
            yield path, inner


def dataset_class(dataset: dict):
    """The registered class of a dataset config (``None`` when its type is not registered)."""
    dataset_type = dataset.get('type')
    found = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    return found if isinstance(found, type) else None


def default_image_suffix(dataset: dict) -> Optional[str]:
    """The ``img_suffix`` a dataset config uses: its own, else its class's default (``None`` if it has none)."""
    if 'img_suffix' in dataset:
        return dataset['img_suffix']
    found = dataset_class(dataset)
    if found is None:
        return None
    parameter = inspect.signature(found.__init__).parameters.get('img_suffix')
    return None if parameter is None or parameter.default is inspect.Parameter.empty else parameter.default


def dataset_class_count(dataset: dict) -> Optional[int]:
    """The number of classes of a dataset config (``None`` if neither the config nor its class names them)."""
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None:
        classes = getattr(dataset_class(dataset), 'METAINFO', {}).get('classes')
    return None if classes is None else len(classes)


def _type_name(step: dict) -> str:
    step_type = step.get('type')
    return step_type.__name__ if isinstance(step_type, type) else str(step_type).rsplit('.', 1)[-1]


def pipeline_crop(train_dataset: dict) -> Optional[Tuple[Tuple[int, int], str]]:
    """The ``crop_size`` of the first crop step of a training dataset's pipelines, with where it stands."""
    for where, dataset in leaf_datasets(train_dataset, 'train_dataloader.dataset'):
        for index, step in enumerate(dataset.get('pipeline') or []):
            if isinstance(step, dict) and _type_name(step) in CROP_STEPS and step.get('crop_size'):
                size = tuple(int(value) for value in step['crop_size'])
                return size, f'{where}.pipeline[{index}] ({_type_name(step)}.crop_size)'
    return None


def _first_sample_size(train_dataset: dict) -> Optional[Tuple[int, int]]:
    """(H, W) of the first training sample through the training pipeline (``None`` if it cannot be loaded)."""
    try:
        dataset = DATASETS.build(copy.deepcopy(train_dataset))
        inputs = dataset[0]['inputs']
    except (OSError, KeyError, IndexError, TypeError, ValueError, RuntimeError):
        return None
    return tuple(int(size) for size in inputs.shape[-2:])


def training_input_size(cfg, preprocessor: Optional[dict] = None) -> Tuple[Tuple[int, int], str]:
    """The (H, W) a training config feeds its model, and where that size comes from.

    In order: the crop step of the training pipeline (``RandomCrop.crop_size``), else the data preprocessor's
    ``size`` (it pads every batch to it), else the first training sample's size through the pipeline.

    Args:
        cfg: an mmengine ``Config`` (or dict) with ``train_dataloader`` and ``model``.
        preprocessor: the data preprocessor config the model really uses (a distiller without its own uses its
            student's); default ``cfg.model.data_preprocessor``.

    Raises:
        ValueError: none of the three gives a size (no crop, no preprocessor size, no readable training sample).
    """
    train_dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    crop = pipeline_crop(train_dataset)
    if crop is not None:
        return crop
    if preprocessor is None:
        preprocessor = (cfg.get('model') or {}).get('data_preprocessor')
    size = (preprocessor or {}).get('size')
    if size:
        return tuple(int(value) for value in size), 'the data preprocessor size'
    sample = _first_sample_size(train_dataset)
    if sample is not None:
        return sample, 'the first training sample through the training pipeline'
    raise ValueError('cannot tell the training input size: the training pipeline has no RandomCrop, the data '
                     'preprocessor no size, and no training sample could be loaded; give the size explicitly '
                     '(--input-size H W)')
