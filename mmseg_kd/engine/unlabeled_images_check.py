"""Refuse, before anything is built, a training config whose losses would mishandle unlabeled images.

A training set has unlabeled images when a pipeline of ``train_dataloader.dataset`` (or of a dataset inside it)
contains :class:`~mmseg_kd.datasets.ignored_label_map.AddIgnoredLabelMap`. Their pixels all carry the ignore label,
so every loss must either skip them without being diluted, or use them without reading labels:

* the model must be a ``SegDistiller``: unlabeled images teach only through distillation losses;
* the unlabeled datasets must list no label files (no ``seg_map_path`` in ``data_prefix``) and their pipelines must
  not load annotations;
* the student's own losses (every ``loss_decode`` of its decode and auxiliary heads) must be mmseg's
  ``CrossEntropyLoss`` with ``avg_non_ignore=True`` (with the default ``False`` its mean counts the ignored pixels,
  so a batch with unlabeled images would shrink the labeled images' loss), and the heads' ``ignore_index`` must be
  the label map's fill value;
* every distillation loss says how it treats unlabeled pixels (``DistillLoss.unlabeled_images_note``): a loss that
  reads no labels learns from every image; one that reads labels either learns from the labeled pixels only (a note
  in the log, e.g. ``IntraClassFeatureVariation``, ``MemoryPixelRegionContrast``) or is refused with the fix (e.g.
  ``KLDivergence`` with ``ignore_index`` equal to the fill value would leave out every unlabeled pixel). AICSD's
  ``student_loss_weight_schedule`` multiplies the student's cross-entropy, which is already a mean over labeled
  pixels (accepted).
"""
from typing import Iterator, List, Tuple

from mmengine.config import Config
from mmseg.registry import MODELS, TRANSFORMS

from mmseg_kd.datasets.dataset_configs import nested_datasets
from mmseg_kd.datasets.ignored_label_map import AddIgnoredLabelMap
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.losses.distill_loss import DistillLoss
from mmseg_kd.utils.constructor_defaults import configured_argument
from mmseg_kd.utils.user_input_error import UserInputError


class UnlabeledImagesConfigError(UserInputError):
    """A config trains on unlabeled images with a loss that would mishandle them."""


def _argument(cfg: dict, registry, argument: str):
    """``cfg[argument]``, or the default of the registered class ``cfg['type']`` when the config does not set it."""
    cls = cfg['type'] if isinstance(cfg['type'], type) else registry.get(cfg['type'])
    return configured_argument(cls, cfg, argument)


def _type_name(cfg: dict) -> str:
    return cfg['type'].__name__ if isinstance(cfg['type'], type) else str(cfg['type'])


def unlabeled_datasets(cfg: Config) -> List[Tuple[str, dict, int]]:
    """(config path, dataset config, fill value) of every training dataset whose pipeline adds ignored label maps."""
    loader = cfg.get('train_dataloader') or {}
    found = []
    for where, dataset in nested_datasets(loader.get('dataset') or {}, 'train_dataloader.dataset'):
        for transform in dataset.get('pipeline') or []:
            if transform.get('type') in ('AddIgnoredLabelMap', AddIgnoredLabelMap):
                found.append((where, dataset, _argument(transform, TRANSFORMS, 'ignore_index')))
    return found


def _check_unlabeled_dataset(where: str, dataset: dict) -> None:
    loads = [_type_name(t) for t in dataset['pipeline'] if _type_name(t) == 'LoadAnnotations']
    if loads:
        raise UnlabeledImagesConfigError(
            f'{where}.pipeline has both AddIgnoredLabelMap and LoadAnnotations: an unlabeled image has no label file '
            'to load; remove LoadAnnotations from the pipeline of the unlabeled images')
    prefix = dataset.get('data_prefix')
    if not isinstance(prefix, dict) or 'seg_map_path' in prefix:
        raise UnlabeledImagesConfigError(
            f'{where}: the unlabeled dataset must list no label files, but its data_prefix is {prefix!r} (mmseg '
            "datasets default to seg_map_path=''). Give it data_prefix=dict(img_path=...) without seg_map_path")


def _heads(student: dict) -> Iterator[Tuple[str, dict]]:
    for key in ('decode_head', 'auxiliary_head'):
        heads = student.get(key)
        if isinstance(heads, dict):
            yield key, heads
        elif heads:
            for index, head in enumerate(heads):
                yield f'{key}[{index}]', head


def _check_student_losses(student: dict, fill_value: int) -> None:
    for where, head in _heads(student):
        where = f'model.student {where}'
        head_ignore = _argument(head, MODELS, 'ignore_index')
        if head_ignore != fill_value:
            raise UnlabeledImagesConfigError(
                f'{where}: ignore_index={head_ignore}, but AddIgnoredLabelMap fills the unlabeled images with '
                f'{fill_value}: their pixels would count as class {fill_value}. Give both the same value')
        losses = head.get('loss_decode') or []
        for index, loss in enumerate([losses] if isinstance(losses, dict) else losses):
            name = f"{where}.loss_decode{'' if isinstance(losses, dict) else f'[{index}]'}"
            if _type_name(loss) != 'CrossEntropyLoss':
                raise UnlabeledImagesConfigError(
                    f'{name} is {_type_name(loss)}; with unlabeled images in the training set only '
                    "mmseg's CrossEntropyLoss(avg_non_ignore=True) is known to average over labeled pixels alone. "
                    'Use it for the student, or train without unlabeled images')
            if _argument(loss, MODELS, 'use_mask'):
                raise UnlabeledImagesConfigError(f'{name}: use_mask=True ignores no pixel; unlabeled pixels would '
                                                 'count as negatives. Use use_mask=False')
            if _argument(loss, MODELS, 'reduction') == 'mean' and _argument(loss, MODELS, 'avg_non_ignore') is not True:
                raise UnlabeledImagesConfigError(
                    f'{name}: CrossEntropyLoss with avg_non_ignore=False averages over all pixels, ignored ones '
                    'included, so the unlabeled images in a batch would dilute the labeled images\' loss. Set '
                    "avg_non_ignore=True in the student's config (e.g. student=dict(cfg_path=..., cfg_options="
                    "{'model.decode_head.loss_decode.avg_non_ignore': True, "
                    "'model.auxiliary_head.loss_decode.avg_non_ignore': True}))")


def _check_distill_losses(distill_losses: dict, fill_value: int) -> List[str]:
    """Ask each distillation loss how it treats unlabeled pixels; return the notes of those that skip them."""
    notes = []
    for name, loss in (distill_losses or {}).items():
        where, type_name = f'model.distill_losses.{name}', _type_name(loss)
        cls = loss['type'] if isinstance(loss['type'], type) else MODELS.get(loss['type'])
        if not (isinstance(cls, type) and issubclass(cls, DistillLoss)):
            raise UnlabeledImagesConfigError(f'{where}: {type_name} is not a registered distillation loss')
        try:
            note = cls.unlabeled_images_note(loss, fill_value)
        except ValueError as error:
            raise UnlabeledImagesConfigError(f'{where}: {error}') from None
        if note:
            notes.append(f'{name} ({type_name}) {note}')
    return notes


def check_unlabeled_images(cfg: Config) -> List[str]:
    """Raise :class:`UnlabeledImagesConfigError` if ``cfg`` trains on unlabeled images with a loss that would
    mishandle them (see the module docstring); return notes on the losses that learn from labeled pixels only
    (empty without unlabeled images)."""
    found = unlabeled_datasets(cfg)
    if not found:
        return []
    for where, dataset, _ in found:
        _check_unlabeled_dataset(where, dataset)
    fill_values = {fill for _, _, fill in found}
    if len(fill_values) > 1:
        raise UnlabeledImagesConfigError(f'the AddIgnoredLabelMap transforms fill with different values '
                                         f'{sorted(fill_values)}; give them all the ignore_index of the student')
    fill_value = fill_values.pop()
    model = cfg.get('model') or {}
    if not is_distiller_config(model):
        raise UnlabeledImagesConfigError(
            f'{found[0][0]} adds unlabeled images (AddIgnoredLabelMap), but the model is {model.get("type")!r}, not '
            "a SegDistiller: a segmentor's own losses get nothing from unlabeled images. Train them in a "
            'distillation config, or remove them from the training set')
    _check_student_losses(resolve_model_config(model['student'], 'student'), fill_value)
    return _check_distill_losses(model.get('distill_losses'), fill_value)
