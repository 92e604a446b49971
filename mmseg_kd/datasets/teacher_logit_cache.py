"""The on-disk layout of an offline teacher cache: one float16 logit map per training image and a manifest.

``tools/cache_teacher.py`` writes it, the pipeline step ``LoadCachedTeacherLogits`` reads it, and the distiller
checks at build time that it was made by its teacher::

    DIR/manifest.json          what made the cache and what it holds (below)
    DIR/logits/<name>.npy      (C, h, w) float16: the teacher's logits (decode head output, before any resize) for the
                               whole image resized to the reference scale; <name> is the image's file name

The manifest (JSON)::

    format           CACHE_FORMAT
    teacher          dict(config_sha256=..., cfg_path=..., checkpoint=..., checkpoint_sha256=...)
    classes          the dataset's class names; num_classes: C
    reference_scale  [w, h] of the pipeline's resize (the image is rescaled to it keeping its aspect ratio)
    output_stride    reference image size / logit map size (8 for a dilated ResNet with output stride 8)
    dtype            'float16'
    images           {file name: dict(file='logits/<name>.npy', sha256=<of the .npy>, image_shape=[H, W] as stored,
                      reference_shape=[h_ref, w_ref], logit_shape=[C, h, w])}
    complete         True once every image of the configured datasets is in ``images``

Images are keyed by file name (Cityscapes, ADE20K and VOC name every training image uniquely); the cache tool
refuses datasets with two images of one name.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict

import numpy as np

from mmseg_kd.utils.user_input_error import UserFileError

CACHE_FORMAT = 'mmseg_kd teacher logit cache v1'
MANIFEST_NAME = 'manifest.json'
LOGITS_FOLDER = 'logits'


class TeacherCacheError(UserFileError):
    """A teacher cache that cannot serve this training run: missing, unreadable, incomplete or another teacher's."""


def manifest_path(cache_dir: str) -> str:
    """Path of the manifest of the cache in ``cache_dir``."""
    return osp.join(cache_dir, MANIFEST_NAME)


def logit_file_name(image_path: str) -> str:
    """Path, relative to the cache folder, of the logit map of ``image_path``."""
    return osp.join(LOGITS_FOLDER, osp.splitext(osp.basename(image_path))[0] + '.npy')


def file_sha256(path: str) -> str:
    """The SHA-256 of the file at ``path`` in hexadecimal."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for chunk in iter(lambda: file.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(cache_dir: str) -> Dict:
    """The manifest of the cache in ``cache_dir``.

    Raises:
        TeacherCacheError: no manifest, unreadable JSON or another format.
    """
    path = manifest_path(cache_dir)
    if not osp.isfile(path):
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: no {MANIFEST_NAME} there. Write the cache with '
                                'tools/cache_teacher.py CONFIG --out DIR, or point teacher.cache to its folder.')
    try:
        with open(path) as file:
            manifest = json.load(file)
    except (OSError, ValueError) as error:
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: {MANIFEST_NAME} cannot be read ({error}); write the '
                                'cache again with tools/cache_teacher.py (it resumes what is intact).') from error
    if not isinstance(manifest, dict) or manifest.get('format') != CACHE_FORMAT:
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: {MANIFEST_NAME} is not a {CACHE_FORMAT!r} manifest; '
                                'write the cache again with tools/cache_teacher.py.')
    return manifest


def write_manifest(cache_dir: str, manifest: Dict) -> None:
    """Write ``manifest`` atomically (a reader never sees half a file, an interrupted write keeps the old one)."""
    path = manifest_path(cache_dir)
    with open(path + '.tmp', 'w') as file:
        json.dump(manifest, file, indent=1, sort_keys=True)
    os.replace(path + '.tmp', path)


def write_logit_map(cache_dir: str, image_path: str, logits: np.ndarray) -> Dict:
    """Store the (C, h, w) ``logits`` of ``image_path`` as float16; returns its manifest fields ``file``, ``sha256``
    and ``logit_shape``. The file is written under a temporary name and renamed, so it is whole or absent."""
    relative = logit_file_name(image_path)
    path = osp.join(cache_dir, relative)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'wb') as file:
        np.save(file, logits.astype(np.float16))
    os.replace(path + '.tmp', path)
    return dict(file=relative, sha256=file_sha256(path), logit_shape=list(logits.shape))


def read_logit_map(cache_dir: str, entry: Dict, image_path: str) -> np.ndarray:
    """The (C, h, w) float16 logit map of ``image_path`` described by its manifest ``entry``.

    Raises:
        TeacherCacheError: the file is missing or its shape differs from the manifest's.
    """
    path = osp.join(cache_dir, entry['file'])
    try:
        logits = np.load(path)
    except (OSError, ValueError) as error:
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: the logit map of {image_path} ({path}) cannot be read '
                                f'({error}); run tools/cache_teacher.py again to rewrite it.') from error
    if list(logits.shape) != list(entry['logit_shape']):
        raise TeacherCacheError(f'teacher cache {cache_dir!r}: {path} holds a {list(logits.shape)} map, the manifest '
                                f"says {entry['logit_shape']}; run tools/cache_teacher.py again to rewrite it.")
    return logits
