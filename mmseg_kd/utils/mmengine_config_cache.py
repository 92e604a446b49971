"""Three of mmengine's config helpers answered from memory: the one place where mmseg-kd patches a third-party package.

Why. Building or starting anything from a config spent most of its time redoing the same work:

1. ``mmseg::path/to/config.py`` references (a ``_base_`` entry, a student's or teacher's ``cfg_path``):
   ``Config._get_cfg_path`` asks whether mmseg is installed, twice (``is_installed``, in ``mmengine.config.config``
   and again inside ``get_installed_path``), each time importing ``pkg_resources`` anew (about 35 ms), then looks the
   name up in mmseg's model index (``mmengine.config.utils._get_cfg_metainfo``), parsing ``.mim/model-index.yml`` and
   the 50-odd metafiles it lists (about 0.35 s on one core) at every reference. With mmseg 1.2.2 that lookup misses
   every time (mmengine asks for the name without its ``.py``, the index keys hold it) and falls back to the file's
   path. A distillation config holds 6 to 12 such references (its own bases, the student's and the teacher's configs
   and theirs): 2 to 5 s per tool start or distiller build.
2. ``Config.pretty_text`` formats the config's text with yapf (``FormatCode``, about 1 s for a distillation config),
   and mmengine's runner asks for it six times per run for the same config (the log, the config file in the work
   dir, each visualizer backend): about 5 s of every ``tools/train.py`` start.

What. :func:`install_mmengine_config_cache` (called once, by ``import mmseg_kd``) replaces those functions, in the
mmengine modules that call them and nowhere else, by versions that give the same answers from memory:

* ``is_installed(package)`` remembers the packages it found installed (a package found missing is asked again);
* ``_get_cfg_metainfo(package_path, cfg_path)`` reads the package's model index once per process
  (:func:`model_index`: the same files in the same order, the first metafile entry of a config name winning, as in
  mmengine) and answers each lookup from it, with a copy of the entry; a name the index lacks raises the same
  ``ValueError``, on which mmengine falls back to the base config's path as before;
* ``FormatCode`` (as ``mmengine.config.config`` calls it) returns the remembered result for a text and style it has
  formatted before (yapf's output depends on nothing else); a text it cannot format raises as before.

``tests/test_mmengine_config_cache.py`` checks that every ``mmseg::`` reference of the repository's configs resolves
to the same entry (or the same ``ValueError``) through mmengine's own functions and through these, that a config's
``pretty_text`` is the same with and without them, and that a repeated lookup or format does no work.
"""
import copy
import functools
import json
import os.path as osp
import warnings
from typing import Dict, Optional, Tuple

from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils
from mmengine.fileio import load
from mmengine.utils import package_utils

MMENGINE_IS_INSTALLED = package_utils.is_installed
MMENGINE_CFG_METAINFO = mmengine_config_utils._get_cfg_metainfo
YAPF_FORMAT_CODE = mmengine_config.FormatCode
_INSTALLED = set()
_FORMATTED: Dict[Tuple[str, str], Tuple[str, bool]] = {}


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


def format_code_remembered(unformatted_source: str, style_config: Optional[dict] = None, **kwargs):
    """yapf's ``FormatCode(unformatted_source, style_config=..., **kwargs)``, computed once per source, style and
    options; returns ``(formatted source, changed)`` as yapf does."""
    key = (unformatted_source, json.dumps([style_config, kwargs], sort_keys=True, default=repr))
    if key not in _FORMATTED:
        _FORMATTED[key] = YAPF_FORMAT_CODE(unformatted_source, style_config=style_config, **kwargs)
    return _FORMATTED[key]


def install_mmengine_config_cache() -> None:
    """Route mmengine's installed check, model-index lookup and config formatting through
    :func:`is_installed_remembered`, :func:`indexed_cfg_metainfo` and :func:`format_code_remembered` (idempotent)."""
    mmengine_config.is_installed = is_installed_remembered
    package_utils.is_installed = is_installed_remembered
    mmengine_config_utils._get_cfg_metainfo = indexed_cfg_metainfo
    mmengine_config.FormatCode = format_code_remembered
