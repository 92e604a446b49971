"""The on-disk layout of an offline teacher cache: one logit map per training image and a manifest.

``tools/cache_teacher.py`` writes it, the pipeline step ``LoadCachedTeacherLogits`` reads it, and the distiller
checks at build time that it was made by its teacher::

    DIR/manifest.json          what made the cache and what it holds (below)
    DIR/logits/<name>.npy      dense storage: (C, h, w) float16, the teacher's logits (decode head output, before any
                               resize) for the whole image resized to the reference scale; <name> is the image's file
                               name without its extension
    DIR/logits/<name>.npz      top-k storage (``--top-k K``), instead: an uncompressed ``np.savez`` of ``values``
                               (K, h, w) float16, ``indices`` (K, h, w) uint8 (uint16 when C > 256) and ``remainder``
                               (h, w) float16 (``mmseg_kd/datasets/top_k_logits.py``); read back as the dense
                               (C, h, w) map
    DIR/manifest.rank<r>.json  while a run writes the cache: what rank r stored so far (a partial manifest, the same
                               fields with only those images); merged into manifest.json at the end of the run, or at
                               the start of the next one if the run was interrupted

The manifest (JSON)::

    format           CACHE_FORMAT
    teacher          dict(config_sha256=..., cfg_path=..., checkpoint=..., checkpoint_sha256=...)
    classes          the dataset's class names; num_classes: C
    output_stride    reference image size / logit map size (8 for a dilated ResNet with output stride 8)
    dtype            'float16'
    storage          'dense' or 'top_k' (a cache written before top-k storage existed has no key: dense)
    top_k            K of the top-k storage (None for dense)
    images           {file name: dict(file='logits/<name>.npy' or '.npz', sha256=<of that file>,
                      image_shape=[H, W] as stored, reference_shape=[h_ref, w_ref], logit_shape=[C, h, w])}
    complete         True once every image of the configured datasets is in ``images``
    seconds          wall time of the runs' image loops (read, rescale, teacher forward, store), summed over ranks
                     and over resumed runs: device-seconds
    images_computed  images those seconds stored (a file rewritten by a resumed run counts again)
    device           'cpu' or 'cuda', and device_name (e.g. 'NVIDIA H100 80GB HBM3'): those of the latest run that
                     stored images

Images are keyed by file name (Cityscapes, ADE20K and VOC name every training image uniquely); the cache tool
refuses datasets with two images of one name.
"""
import hashlib
import json
import os
import os.path as osp
import re
import zipfile
from typing import Dict, List, Optional, Tuple

import numpy as np

from mmseg_kd.datasets.top_k_logits import top_k_dense, top_k_split
from mmseg_kd.utils.user_input_error import UserFileError

CACHE_FORMAT = 'mmseg_kd teacher logit cache v1'
MANIFEST_NAME = 'manifest.json'
PARTIAL_MANIFEST = re.compile(r'^manifest\.rank(\d+)\.json$')
LOGITS_FOLDER = 'logits'
COST_KEYS = ('seconds', 'images_computed')  # summed when manifests are merged


class TeacherCacheError(UserFileError):
    """A teacher cache that cannot serve this training run: missing, unreadable, incomplete or another teacher's."""


def manifest_path(cache_dir: str, rank: Optional[int] = None) -> str:
    """Path of the manifest of the cache in ``cache_dir``, or of rank ``rank``'s partial manifest."""
    return osp.join(cache_dir, MANIFEST_NAME if rank is None else f'manifest.rank{rank}.json')


def partial_manifest_ranks(cache_dir: str) -> List[int]:
    """The ranks whose partial manifest lies in ``cache_dir`` (left by a run that is writing or was interrupted)."""
    names = os.listdir(cache_dir) if osp.isdir(cache_dir) else []
    return sorted(int(match.group(1)) for match in map(PARTIAL_MANIFEST.match, names) if match)


def storage_of(manifest: Dict) -> Tuple[str, Optional[int]]:
    """``('dense', None)`` or ``('top_k', K)``; a manifest without ``storage`` (written before top-k) is dense."""
    return manifest.get('storage', 'dense'), manifest.get('top_k')


def storage_name(storage: str, top_k: Optional[int]) -> str:
    """How messages name a storage: ``'dense'`` or ``'top-5'``."""
    return 'dense' if storage == 'dense' else f'top-{top_k}'


def logit_file_name(image_path: str, top_k: Optional[int] = None) -> str:
    """Path, relative to the cache folder, of the logit map of ``image_path`` (``.npz`` for the top-k storage)."""
    suffix = '.npy' if top_k is None else '.npz'
    return osp.join(LOGITS_FOLDER, osp.splitext(osp.basename(image_path))[0] + suffix)


def file_sha256(path: str) -> str:
    """The SHA-256 of the file at ``path`` in hexadecimal."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for chunk in iter(lambda: file.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(cache_dir: str, rank: Optional[int] = None) -> Dict:
    """The manifest of the cache in ``cache_dir``, or rank ``rank``'s partial manifest.

    Raises:
        TeacherCacheError: no manifest, unreadable JSON or another format.
    """
    path = manifest_path(cache_dir, rank)
    name = osp.basename(path)
    if not osp.isfile(path):
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: no {name} there. Write the cache with '
                                'tools/cache_teacher.py CONFIG --out DIR, or point teacher.cache to its folder.')
    try:
        with open(path) as file:
            manifest = json.load(file)
    except (OSError, ValueError) as error:
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: {name} cannot be read ({error}); write the '
                                'cache again with tools/cache_teacher.py (it resumes what is intact).') from error
    if not isinstance(manifest, dict) or manifest.get('format') != CACHE_FORMAT:
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: {name} is not a {CACHE_FORMAT!r} manifest; '
                                'write the cache again with tools/cache_teacher.py.')
    return manifest


def write_manifest(cache_dir: str, manifest: Dict, rank: Optional[int] = None) -> None:
    """Write ``manifest`` (rank ``rank``'s partial manifest if given) atomically: a reader never sees half a file,
    an interrupted write keeps the old one."""
    path = manifest_path(cache_dir, rank)
    with open(path + '.tmp', 'w') as file:
        json.dump(manifest, file, indent=1, sort_keys=True)
    os.replace(path + '.tmp', path)


def merged_manifest(manifest: Dict, part: Dict, part_name: str) -> Dict:
    """``manifest`` with the images and cost of ``part`` (a partial manifest of the same cache) added.

    Images: the union (``part``'s entry wins). ``seconds``, ``images_computed``: summed (a missing one counts 0).
    ``device``, ``device_name``: ``part``'s when it stored images. ``output_stride``: the one both have.

    Raises:
        TeacherCacheError: the two were computed at different output strides (``part_name`` names ``part``).
    """
    strides = {manifest.get('output_stride'), part.get('output_stride')} - {None}
    if len(strides) > 1:
        raise TeacherCacheError(f"{part_name}: the teacher's output stride is {part['output_stride']} there, "
                                f"{manifest['output_stride']} in the rest of the cache; a cache needs one stride. "
                                'Delete the cache folder and write it again.')
    merged = dict(manifest, images={**manifest['images'], **part['images']},
                  output_stride=strides.pop() if strides else None,
                  **{key: manifest.get(key, 0) + part.get(key, 0) for key in COST_KEYS})
    if part.get('images_computed'):
        merged.update(device=part['device'], device_name=part['device_name'])
    return merged


def write_logit_map(cache_dir: str, image_path: str, logits: np.ndarray, top_k: Optional[int] = None) -> Dict:
    """Store the (C, h, w) ``logits`` of ``image_path``: float16, or its top-k storage with ``top_k``; returns its
    manifest fields ``file``, ``sha256`` and ``logit_shape``. The file is written under a temporary name and
    renamed, so it is whole or absent."""
    relative = logit_file_name(image_path, top_k)
    path = osp.join(cache_dir, relative)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'wb') as file:
        if top_k is None:
            np.save(file, logits.astype(np.float16))
        else:
            np.savez(file, **top_k_split(logits, top_k))
    os.replace(path + '.tmp', path)
    return dict(file=relative, sha256=file_sha256(path), logit_shape=list(logits.shape))


def load_logit_file(path: str, num_classes: int) -> np.ndarray:
    """The dense (C, h, w) map stored at ``path``: float16 from a ``.npy``, float32 from a top-k ``.npz``."""
    if not path.endswith('.npz'):
        return np.load(path)
    with np.load(path) as stored:
        return top_k_dense(stored['values'], stored['indices'], stored['remainder'], num_classes)


def read_logit_map(cache_dir: str, entry: Dict, image_path: str) -> np.ndarray:
    """The (C, h, w) logit map of ``image_path`` described by its manifest ``entry``: float16 (dense storage) or
    float32 (the top-k storage read back, ``mmseg_kd/datasets/top_k_logits.py``).

    Raises:
        TeacherCacheError: the file is missing, unreadable, or its shape differs from the manifest's.
    """
    path = osp.join(cache_dir, entry['file'])
    try:
        logits = load_logit_file(path, entry['logit_shape'][0])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: the logit map of {image_path} ({path}) cannot be read '
                                f'({error}); run tools/cache_teacher.py again to rewrite it.') from error
    if list(logits.shape) != list(entry['logit_shape']):
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: {path} holds a {list(logits.shape)} map, the manifest '
                                f"says {entry['logit_shape']}; run tools/cache_teacher.py again to rewrite it.")
    return logits
