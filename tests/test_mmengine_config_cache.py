"""The one patch of mmengine (mmseg_kd/utils/mmengine_config_cache.py): ``mmseg::`` config references resolve to
what mmengine's own functions give, reading mmseg's model index once per process, and a config's text is formatted as
yapf formats it, once per text."""
import re

import pytest
from mmengine.config import Config
from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils
from mmengine.config.utils import _get_package_and_cfg_path
from mmengine.utils import get_installed_path, package_utils
from yapf.yapflib.errors import YapfError

from conftest import REPO
from mmseg_kd.utils import mmengine_config_cache
from mmseg_kd.utils.mmengine_config_cache import (
    MMENGINE_CFG_METAINFO,
    MMENGINE_IS_INSTALLED,
    YAPF_FORMAT_CODE,
    format_code_remembered,
    indexed_cfg_metainfo,
    is_installed_remembered,
    model_index,
)

REFERENCE = re.compile(r'mmseg::[\w/.\-]+\.py')
REFERENCES = sorted({match for folder in ('configs', 'distillation_configs') for path in (REPO / folder).rglob('*.py')
                     for match in REFERENCE.findall(path.read_text())})


def metainfo_or_error(lookup, package_path, name):
    try:
        return lookup(package_path, name)
    except ValueError as error:
        return ('ValueError', str(error))


def test_the_repository_configs_reference_mmseg_configs_and_bases():
    assert len(REFERENCES) >= 10
    assert any('/_base_/' in ref or '::_base_/' in ref for ref in REFERENCES)  # bases: not in the model index
    assert any('_base_' not in ref for ref in REFERENCES)  # configs the model index names


@pytest.mark.parametrize('reference', REFERENCES)
def test_every_reference_resolves_as_mmengine_resolves_it(reference):
    package, cfg_file = _get_package_and_cfg_path(reference)
    package_path = get_installed_path(package)
    name = cfg_file.split('.')[0]  # what mmengine's _get_external_cfg_path asks for
    assert metainfo_or_error(indexed_cfg_metainfo, package_path, name) == \
        metainfo_or_error(MMENGINE_CFG_METAINFO, package_path, name)


def test_the_model_index_is_read_once_and_its_entries_are_copies(monkeypatch):
    reads = []
    monkeypatch.setattr(mmengine_config_cache, 'load', lambda path: reads.append(path) or mmengine_config_utils.load(
        path))
    model_index.cache_clear()
    package_path = get_installed_path('mmseg')
    name = next(key for key in model_index(package_path) if key.startswith('pspnet/'))
    files = len(reads)
    assert files > 10 and reads[0].endswith('model-index.yml')
    entry = indexed_cfg_metainfo(package_path, name)
    entry['Config'] = 'changed by a caller'
    with pytest.raises(ValueError, match='but got _base_/models/pspnet_r50-d8'):
        indexed_cfg_metainfo(package_path, '_base_/models/pspnet_r50-d8')
    assert indexed_cfg_metainfo(package_path, name)['Config'] == 'configs/' + name
    assert len(reads) == files  # the lookups after the first read nothing


def test_an_installed_package_is_remembered_and_a_missing_one_asked_again(monkeypatch):
    asked = []
    monkeypatch.setattr(mmengine_config_cache, 'MMENGINE_IS_INSTALLED',
                        lambda package: asked.append(package) or MMENGINE_IS_INSTALLED(package))
    monkeypatch.setattr(mmengine_config_cache, '_INSTALLED', set())
    assert is_installed_remembered('mmseg') and is_installed_remembered('mmseg')
    assert not is_installed_remembered('no_such_package_mmseg_kd') and not is_installed_remembered(
        'no_such_package_mmseg_kd')
    assert asked == ['mmseg', 'no_such_package_mmseg_kd', 'no_such_package_mmseg_kd']


def test_a_text_is_formatted_as_yapf_formats_it_once_per_text_and_style(monkeypatch):
    calls = []
    monkeypatch.setattr(mmengine_config_cache, 'YAPF_FORMAT_CODE',
                        lambda source, **kwargs: calls.append(source) or YAPF_FORMAT_CODE(source, **kwargs))
    monkeypatch.setattr(mmengine_config_cache, '_FORMATTED', {})
    source = "model=dict(type='X',   layers=[1,2,\n 3])\n"
    pep8, google = dict(based_on_style='pep8'), dict(based_on_style='google', column_limit=20)
    for _ in range(3):
        assert format_code_remembered(source, style_config=pep8) == YAPF_FORMAT_CODE(source, style_config=pep8)
        assert format_code_remembered(source, style_config=google) == YAPF_FORMAT_CODE(source, style_config=google)
    assert format_code_remembered(source + 'b=1\n', style_config=pep8)[0].endswith('b = 1\n')
    assert calls == [source, source, source + 'b=1\n']  # once per text and style
    with pytest.raises(YapfError):  # a text yapf cannot format raises each time, as without the cache
        format_code_remembered('model=dict(', style_config=pep8)
    with pytest.raises(YapfError):
        format_code_remembered('model=dict(', style_config=pep8)


def test_mmengine_calls_the_patched_functions_and_gives_the_same_config(monkeypatch):
    assert mmengine_config.is_installed is package_utils.is_installed is is_installed_remembered
    assert mmengine_config_utils._get_cfg_metainfo is indexed_cfg_metainfo
    assert mmengine_config.FormatCode is format_code_remembered
    path = REPO / 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'
    patched = Config.fromfile(path).pretty_text
    assert Config.fromfile(path).pretty_text == patched  # the second time from memory
    monkeypatch.setattr(mmengine_config, 'is_installed', MMENGINE_IS_INSTALLED)
    monkeypatch.setattr(package_utils, 'is_installed', MMENGINE_IS_INSTALLED)
    monkeypatch.setattr(mmengine_config_utils, '_get_cfg_metainfo', MMENGINE_CFG_METAINFO)
    monkeypatch.setattr(mmengine_config, 'FormatCode', YAPF_FORMAT_CODE)
    assert Config.fromfile(path).pretty_text == patched
