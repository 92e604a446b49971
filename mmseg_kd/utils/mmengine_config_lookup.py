"""Faster ``mmseg::`` config references: the one place where mmseg-kd patches a third-party package (mmengine).

Why. mmengine resolves every ``mmseg::path/to/config.py`` reference (a ``_base_`` entry, a student's or teacher's
``cfg_path``) in ``Config._get_cfg_path`` by

1. asking whether mmseg is installed, twice (``is_installed``, in ``mmengine.config.config`` and again inside
   ``get_installed_path``), each time importing ``pkg_resources`` anew (about 35 ms), and
2. looking the name up in mmseg's model index (``mmengine.config.utils._get_cfg_metainfo``): it parses
   ``.mim/model-index.yml`` and the 50-odd metafiles it lists (about 0.35 s on one core) at every reference, and
   for a ``_base_`` file, which no metafile names, parses them all only to fall back to the base path.

With mmseg 1.2.2 the model-index lookup misses every time (mmengine asks for the name without its ``.py``, the index
keys hold it), so every reference parsed the whole index only to fall back to the file's path. A distillation config
holds 6 to 12 such references (its own bases, the student's and the teacher's configs and theirs), so every tool
start and every build of a distiller spent 2 to 5 s re-reading the same YAML files (most of the time of building a
config in the test suite).

What. :func:`install_config_lookup_cache` (called once, by ``import mmseg_kd``) replaces those two functions, in the
modules that call them and nowhere else, by versions that give the same answers from memory:

* ``is_installed(package)`` remembers the packages it found installed (a package found missing is asked again);
* ``_get_cfg_metainfo(package_path, cfg_path)`` reads the package's model index once per process
  (:func:`model_index`: the same files in the same order, the first metafile entry of a config name winning, as in
  mmengine) and answers each lookup from it, with a copy of the entry; a name the index lacks raises the same
  ``ValueError``, on which mmengine falls back to the base config's path as before.

``tests/test_mmengine_config_lookup.py`` checks that every ``mmseg::`` reference of the repository's configs resolves
to the same entry (or the same ``ValueError``) through mmengine's own functions and through these, and that a second
lookup reads no file.
"""
import copy
import functools
import os.path as osp
import warnings
from typing import Dict

from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils
from mmengine.fileio import load
from mmengine.utils import package_utils

MMENGINE_IS_INSTALLED = package_utils.is_installed
MMENGINE_CFG_METAINFO = mmengine_config_utils._get_cfg_metainfo
_INSTALLED = set()


def is_installed_remembered(package: str) -> bool:
    """mmengine's ``is_installed``, asked once per package that it finds installed."""
    if package not in _INSTALLED and MMENGINE_IS_INSTALLED(package):
        _INSTALLED.add(package)
    return package in _INSTALLED


@functools.lru_cache(maxsize=None)
def model_index(package_path: str) -> Dict[str, dict]:
    """``{config name: metafile entry}`` of the package at ``package_path``: every ``Models`` entry of the metafiles
    that ``.mim/model-index.yml`` imports, keyed by its ``Config`` path without the first folder; the first entry of a
    name wins (a config with several weights), entries without ``Config`` are skipped with mmengine's warning."""
    mim = osp.join(package_path, '.mim')
    configs = {}
    for metafile in load(osp.join(mim, 'model-index.yml'))['Import']:
        for entry in load(osp.join(mim, metafile))['Models']:
            if 'Config' not in entry:
                warnings.warn(f'There is not `Config` define in {entry}')
                continue
            configs.setdefault(entry['Config'].partition('/')[-1], entry)
    return configs


def indexed_cfg_metainfo(package_path: str, cfg_path: str) -> dict:
    """mmengine's ``_get_cfg_metainfo`` answered from :func:`model_index`: a copy of the entry of ``cfg_path``.

    Raises:
        ValueError: the index has no config of that name (a ``_base_`` file), as mmengine raises it.
    """
    configs = model_index(package_path)
    if cfg_path not in configs:
        raise ValueError(f'Expected configs: {configs.keys()}, but got {cfg_path}')
    return copy.deepcopy(configs[cfg_path])


def install_config_lookup_cache() -> None:
    """Route mmengine's installed check and model-index lookup of ``package::`` config references through
    :func:`is_installed_remembered` and :func:`indexed_cfg_metainfo` (idempotent)."""
    mmengine_config.is_installed = is_installed_remembered
    package_utils.is_installed = is_installed_remembered
    mmengine_config_utils._get_cfg_metainfo = indexed_cfg_metainfo
