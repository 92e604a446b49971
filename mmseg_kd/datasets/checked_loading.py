"""Loading steps that report a bad image or label file by name, with what is wrong in it.

mmcv's ``LoadImageFromFile`` and mmseg's ``LoadAnnotations`` fail inside their decoders without naming the file
(a 0-byte image stops in OpenCV with ``!buf.empty()``), and nothing checks the values of a label map: a label outside
the classes that is not the ignore index stops training with ``IndexError: Target 40 is out of bounds`` (no file
named) and, in validation, silently changes the mIoU. These subclasses load exactly as their parents do and check
what they load, where it is loaded (no scan of the dataset at start):

* :class:`CheckedLoadImageFromFile`: a file that cannot be read or decoded raises :class:`BadDataError` naming it
  (and saying when it is empty or missing); so does an image that decodes to a (nearly) constant picture while the
  file holds more (:func:`lost_range_problem`: a 16-bit PNG whose values all fall below 256 decodes to black);
* :class:`CheckedLoadAnnotations`: likewise for the label map, which must be one channel of the image's size
  (:func:`label_shape_problem`; a colour-coded RGB label map or one of another resolution would otherwise fail far
  from the file, in ``torch.stack`` or with an ``IndexError`` in validation), and every value of the map (after the
  dataset's ``reduce_zero_label``/``label_map``, i.e. what the model is trained on) must be a class
  ``0..num_classes-1`` or ``ignore_index``; otherwise :class:`BadDataError` names the file, the values found (with
  their pixel counts) and the classes expected. Checking a 1024x2048 map costs one ``bincount`` (a few milliseconds).

``tools/analysis/check_dataset.py`` runs these very steps on every sample, so
the scan and training report the same files.

``tools/train.py`` and ``tools/test.py`` put them into every pipeline in place of the stock steps
(``mmseg_kd.engine.data_checks.add_data_checks``), with ``num_classes`` and ``ignore_index`` of the step's dataset.
"""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from mmseg_kd.utils.argument_checks import integer, integer_at_least
from mmseg_kd.utils.user_input_error import UserInputError

# At most this many distinct bad label values are listed in a message.
MAX_LISTED_VALUES = 10
#: An image whose decoded values span fewer levels than this is decoded again, unchanged, to compare.
NEARLY_CONSTANT_RANGE = 4


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


def value_range(array: np.ndarray) -> float:
    """max - min of an array (0 for an empty one)."""
    return float(array.max()) - float(array.min()) if array.size else 0.0


def lost_range_problem(image: np.ndarray, path: str, file_bytes: bytes) -> str:
    """Why ``image``, decoded from ``file_bytes`` (the file at ``path``), does not show what the file holds ('' when it
    does): it spans fewer than :data:`NEARLY_CONSTANT_RANGE` levels while the file, decoded unchanged, spans more
    (e.g. a 16-bit PNG, which the colour decoding divides by 256). An image that is constant in its file passes."""
    decoded_range = value_range(image)
    if decoded_range >= NEARLY_CONSTANT_RANGE:
        return ''
    try:
        unchanged = mmcv.imfrombytes(file_bytes, flag='unchanged')
    except Exception:  # the decoded image is what we have; nothing to compare with
        return ''
    if unchanged is None or value_range(unchanged) <= decoded_range:
        return ''
    return (f'image {path!r} decodes to values {image.min()}..{image.max()} ({image.dtype}, a nearly constant '
            f'picture), while the file holds values {unchanged.min()}..{unchanged.max()} ({unchanged.dtype}, shape '
            f'{unchanged.shape}): the loading step reduces it to 8 bits per channel, and the data is lost. Convert '
            'the images to 8-bit (scaling their range to 0..255) as the dataset converters do.')


def label_shape_problem(label_map: np.ndarray, path: str, image_shape: Optional[Sequence[int]]) -> str:
    """Why ``label_map`` (as loaded from ``path``) cannot label its image ('' when it can): it must have one channel
    (H, W), and the (H, W) of the image it belongs to (``image_shape``; ``None``: not known, not compared)."""
    if label_map.ndim != 2:
        return (f'label map {path!r} has shape {label_map.shape}, not (H, W): a label map holds one class index per '
                'pixel, as a single-channel (grayscale or palette) PNG. A colour-coded map must be converted to '
                'class indices (tools/dataset_converters); a grayscale map saved as RGB must be saved with one '
                'channel.')
    if image_shape is not None and tuple(label_map.shape) != tuple(image_shape[:2]):
        return (f'label map {path!r} is {label_map.shape[0]}x{label_map.shape[1]} (HxW), its image '
                f'{image_shape[0]}x{image_shape[1]}: every pixel of the image needs its label. Is it the label map of '
                'another image, or was one of the two resized? Replace it with the map of this image.')
    return ''


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments, same results) whose failures name the file.

    Raises:
        BadDataError: the image cannot be read or decoded (``ignore_empty=True`` keeps mmcv's behaviour of
            returning ``None`` instead), or it decodes to a nearly constant picture while its file holds more
            (:func:`lost_range_problem`).
    """

    def transform(self, results: dict) -> Optional[dict]:
        try:
            loaded = super().transform(results)
        except Exception as error:  # whatever the decoder raises for this file
            raise BadDataError(unreadable_file_message('image', results['img_path'], error)) from error
        if loaded is not None and value_range(loaded['img']) < NEARLY_CONSTANT_RANGE:
            file_bytes = fileio.get(results['img_path'], backend_args=self.backend_args)
            problem = lost_range_problem(loaded['img'], results['img_path'], file_bytes)
            if problem:
                raise BadDataError(problem)
        return loaded


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` (same results) that names an unreadable label file and checks its values.

    Args:
        num_classes: K; every label value must be in ``0..K-1`` or be ``ignore_index``. ``None`` skips the value
            check (only unreadable files are reported).
        ignore_index: the label of pixels without a class (mmseg: 255).
        reduce_zero_label, backend_args, imdecode_backend: as mmseg's ``LoadAnnotations``.

    Raises:
        BadDataError: the label file cannot be read, is not one channel of its image's size (when the image was
            loaded before it, as in every mmseg pipeline), or holds values that are neither a class nor
            ``ignore_index``.
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
        problem = label_shape_problem(results['gt_seg_map'], path, None)  # one channel, before its values
        if problem:
            raise BadDataError(problem)
        if self.num_classes is not None:
            self._check_values(results['gt_seg_map'], path, results)
        problem = label_shape_problem(results['gt_seg_map'], path, results.get('ori_shape'))
        if problem:
            raise BadDataError(problem)

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
