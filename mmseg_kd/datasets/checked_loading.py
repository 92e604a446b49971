"""Loading steps that report a bad image or label file by name, with what is wrong in it.

mmcv's ``LoadImageFromFile`` and mmseg's ``LoadAnnotations`` fail inside their decoders without naming the file
(a 0-byte image stops in OpenCV with ``!buf.empty()``), and nothing checks the values of a label map: a label outside
the classes that is not the ignore index stops training with ``IndexError: Target 40 is out of bounds`` (no file
named) and, in validation, silently changes the mIoU. These subclasses load exactly as their parents do and check
what they load, where it is loaded (no scan of the dataset at start):

* :class:`CheckedLoadImageFromFile`: a file that cannot be read or decoded raises :class:`BadDataError` naming it
  (and saying when it is empty or missing);
* :class:`CheckedLoadAnnotations`: likewise for the label map, and every value of the map (after the dataset's
  ``reduce_zero_label``/``label_map``, i.e. what the model is trained on) must be a class ``0..num_classes-1`` or
  ``ignore_index``; otherwise :class:`BadDataError` names the file, the values found (with their pixel counts) and
  the classes expected. Checking a 1024x2048 map costs one ``bincount`` (a few milliseconds).

``tools/train.py`` and ``tools/test.py`` put them into every pipeline in place of the stock steps
(``mmseg_kd.engine.data_checks.add_data_checks``), with ``num_classes`` and ``ignore_index`` of the step's dataset.
"""
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from mmseg_kd.utils.argument_checks import integer, integer_at_least
from mmseg_kd.utils.user_input_error import UserInputError

# At most this many distinct bad label values are listed in a message.
MAX_LISTED_VALUES = 10


class BadDataError(UserInputError):
    """An image or label file of the dataset is unreadable or holds values the model cannot train on."""


def unreadable_file_message(kind: str, path: str, error: Exception) -> str:
    """Why the ``kind`` ('image', 'label map') at ``path`` could not be loaded (the decoder's error for a file
    that exists and is not empty)."""
    local = '://' not in str(path)
    if local and not osp.isfile(path):
        what = 'does not exist'
    elif local and osp.getsize(path) == 0:
        what = 'is empty (0 bytes: an interrupted copy or download?)'
    else:
        what = f'cannot be decoded as an image ({type(error).__name__}: {str(error).strip()})'
    return f'{kind} {path!r} {what}. Replace the file, or remove it and its partner from the dataset.'



@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments, same results) whose failures name the file.

    Raises:
        BadDataError: the image cannot be read or decoded (``ignore_empty=True`` keeps mmcv's behaviour of
            returning ``None`` instead).
    """

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except Exception as error:  # whatever the decoder raises for this file
            raise BadDataError(unreadable_file_message('image', results['img_path'], error)) from error


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` (same results) that names an unreadable label file and checks its values.

    Args:
        num_classes: K; every label value must be in ``0..K-1`` or be ``ignore_index``. ``None`` skips the value
            check (only unreadable files are reported).
        ignore_index: the label of pixels without a class (mmseg: 255).
        reduce_zero_label, backend_args, imdecode_backend: as mmseg's ``LoadAnnotations``.

    Raises:
        BadDataError: the label file cannot be read, or holds values that are neither a class nor ``ignore_index``.
    """

    def __init__(self, num_classes: Optional[int] = None, ignore_index: int = 255, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = integer_at_least(type(self).__name__, 'num_classes', num_classes, 1, allow_none=True)
        self.ignore_index = integer(type(self).__name__, 'ignore_index', ignore_index)

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        try:
            super()._load_seg_map(results)
        except AssertionError:  # mmseg's own check of reduce_zero_label, whose message says what to do
            raise
        except Exception as error:  # whatever the decoder raises for this file
            raise BadDataError(unreadable_file_message('label map', path, error)) from error
        if self.num_classes is not None:
            self._check_values(results['gt_seg_map'], path, results)

    def _check_values(self, label_map: np.ndarray, path: str, results: dict) -> None:
        """Raise :class:`BadDataError` if ``label_map`` holds a value that is neither a class nor ignored."""
        if label_map.dtype == np.uint8:
            counts = np.bincount(label_map.ravel(), minlength=256)
            values = np.flatnonzero(counts)
            counts = counts[values]
        else:
            values, counts = np.unique(label_map, return_counts=True)
        bad = ((values < 0) | (values >= self.num_classes)) & (values != self.ignore_index)
        if not bad.any():
            return
        found = ', '.join(f'{value} ({count} pixels)' for value, count in
                          list(zip(values[bad].tolist(), counts[bad].tolist()))[:MAX_LISTED_VALUES])
        mapping = []
        if results.get('reduce_zero_label'):
            mapping.append('reduce_zero_label (file value v becomes v - 1, 0 becomes 255)')
        if results.get('label_map'):
            mapping.append("the dataset's label_map")
        mapped = f" as the dataset maps them ({' and '.join(mapping)})" if mapping else ''
        raise BadDataError(
            f'label map {path!r} holds value(s) {found}{mapped}, which are neither one of the {self.num_classes} '
            f'classes 0..{self.num_classes - 1} nor the ignore index {self.ignore_index}. Such labels stop training '
            '(a cross-entropy target out of bounds) and silently change the mIoU of an evaluation. Fix the file, or, '
            "if the dataset has these labels, give the dataset config its classes (metainfo=dict(classes=...)) or "
            'its ignore_index.')
