"""The shipped distillation configs name their teachers' weights by mmseg model-zoo URL and hash, and each linked
teacher config builds the very network (model and data preprocessing) of the mmseg config the URL belongs to.

mmseg's wheel ships its model-zoo metafiles (``mmseg/.mim/configs/<method>/metafile.yaml``: config, weights URL,
mIoU). Loading all 45 distillation configs with mmengine takes about a minute (each ``mmseg::`` reference re-reads
the metafiles), so the teacher entries are read from the config files' syntax, following ``_base_`` as mmengine
does for these keys; :func:`test_the_syntax_reader_agrees_with_mmengine` checks that reading against mmengine.
"""
import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

import mmseg
import pytest
import yaml
from mmengine.config import Config
from mmengine.hub import get_config

from conftest import REPO

METAFILES = Path(mmseg.__file__).parent / '.mim' / 'configs'
DISTILLATION_CONFIGS = sorted(path for path in (REPO / 'distillation_configs').rglob('*.py')
                              if '_base_' not in path.relative_to(REPO).parts)
ZOO_FILE_HASH = re.compile(r'-([0-9a-f]{8})\.pth$')
MISSING = object()


def _teacher_keywords(path: Path) -> Dict[str, ast.expr]:
    """The keyword arguments of ``teacher=dict(...)`` inside ``model = dict(...)`` of one config file."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ['model']:
            for keyword in node.value.keywords:
                if keyword.arg == 'teacher':
                    return {item.arg: item.value for item in keyword.value.keywords}
    return {}


def _bases(path: Path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ['_base_']:
            bases = ast.literal_eval(node.value)
            return [path.parent / base for base in ([bases] if isinstance(bases, str) else bases)
                    if '::' not in base]
    return []


def teacher_setting(path: Path, key: str):
    """``model.teacher.<key>`` of a config: its own value, else its bases' (mmengine lets a child override)."""
    keywords = _teacher_keywords(path)
    if key in keywords:
        return ast.literal_eval(keywords[key]).replace('{{fileDirname}}', str(path.parent))
    for base in _bases(path):
        value = teacher_setting(base.resolve(), key)
        if value is not MISSING:
            return value
    return MISSING


@lru_cache(maxsize=None)
def zoo_by_url() -> Dict[str, dict]:
    """Every model-zoo entry of mmseg's metafiles, by weights URL."""
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    entries = {}
    for metafile in METAFILES.glob('*/metafile.yaml'):
        for entry in yaml.load(metafile.read_text(), Loader=loader).get('Models', []):
            if entry.get('Weights'):
                entries[entry['Weights']] = entry
    return entries


def linked_teachers() -> Dict[str, str]:
    """{teacher config path: weights URL} over the distillation configs whose teacher is a URL."""
    links = {}
    for path in DISTILLATION_CONFIGS:
        checkpoint = teacher_setting(path, 'checkpoint')
        if isinstance(checkpoint, str) and checkpoint.startswith('https://'):
            teacher = str(Path(teacher_setting(path, 'cfg_path')).resolve())
            assert links.setdefault(teacher, checkpoint) == checkpoint, f'{path.name}: another URL for {teacher}'
    return links


def without_scope(value):
    """A config value without mmengine's ``_scope_`` marks (added to dicts inherited from ``mmseg::`` files)."""
    if isinstance(value, dict):
        return {key: without_scope(item) for key, item in value.items() if key != '_scope_'}
    if isinstance(value, (list, tuple)):
        return type(value)(without_scope(item) for item in value)
    return value


def test_the_syntax_reader_agrees_with_mmengine():
    for name in ('cwd/cwd_pspnet-r101_pspnet-r18_80k_cityscapes.py',  # teacher in the file itself
                 'kd/kd_deeplabv3-r101_deeplabv3-mobilenetv2_40k_cityscapes.py'):  # two bases away
        path = REPO / 'distillation_configs' / name
        teacher = Config.fromfile(str(path)).model.teacher
        assert Path(teacher_setting(path, 'cfg_path')).resolve() == Path(teacher.cfg_path).resolve(), name
        assert teacher_setting(path, 'checkpoint') == teacher.checkpoint, name
        assert teacher_setting(path, 'checkpoint_sha256') == teacher.checkpoint_sha256, name

@pytest.mark.parametrize('path', DISTILLATION_CONFIGS, ids=lambda path: path.name)
def test_every_teacher_is_a_zoo_url_with_its_hash_or_a_file_that_is_not_in_the_zoo(path):
    checkpoint = teacher_setting(path, 'checkpoint')
    sha256: Optional[str] = teacher_setting(path, 'checkpoint_sha256')
    teacher = str(Path(teacher_setting(path, 'cfg_path')).resolve())
    if isinstance(checkpoint, str) and checkpoint.startswith('https://'):
        assert checkpoint in zoo_by_url(), f'{checkpoint} is not a weights URL of mmseg 1.2.2 model zoo'
        assert sha256 is not MISSING and sha256 == ZOO_FILE_HASH.search(checkpoint).group(1), \
            f'checkpoint_sha256 {sha256!r} is not the hash that ends the zoo file name'
    else:
        assert teacher not in linked_teachers(), \
            f'{teacher} is in the zoo ({linked_teachers()[teacher]}) but this config gives a file: {checkpoint}'


@pytest.mark.parametrize('teacher', sorted(linked_teachers()), ids=lambda path: Path(path).name)
def test_linked_teacher_config_builds_the_zoo_config_s_network(teacher):
    """Model and data preprocessing, key for key, as mmseg's config of the weights (without ``_scope_``)."""
    entry = zoo_by_url()[linked_teachers()[teacher]]
    theirs = get_config('mmseg::' + entry['Config'][len('configs/'):])
    ours = Config.fromfile(teacher)
    for key in ('model', 'data_preprocessor'):
        assert without_scope(ours[key].to_dict()) == without_scope(theirs[key].to_dict()), (key, entry['Name'])


def test_docs_teachers_table_matches_the_configs_and_the_metafiles():
    rows = [line.split('|')[1:-1] for line in (REPO / 'docs' / 'teachers.md').read_text().splitlines()
            if line.startswith('| `configs/')]
    table = {}
    for config, zoo_name, url, sha256, miou in (map(str.strip, row) for row in rows):
        entry = zoo_by_url()[url.strip('<>')]
        assert zoo_name == f"`{entry['Name']}`" and sha256 == f'`{ZOO_FILE_HASH.search(entry["Weights"]).group(1)}`'
        assert float(miou) == entry['Results']['Metrics']['mIoU'], entry['Name']
        table[str((REPO / config.strip('`')).resolve())] = entry['Weights']
    assert table == linked_teachers()
