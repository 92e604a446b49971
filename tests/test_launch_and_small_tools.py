"""The launch scripts and small tools check their arguments: GPUS of dist_train.sh/dist_test.sh/dist_cache_teacher.sh,
the rank's error block printed last under torchrun, fetch_teacher.py's check of a cached file without hash, a vanishing
temperature."""
import importlib.util
import inspect
import os
import subprocess
import warnings

import pytest
import torch
from mmseg.registry import MODELS

from conftest import CWD_DISTILL_CFG, PYTHON, REPO
from mmseg_kd.distillers.distill_term import registered_distill_losses
from mmseg_kd.utils.argument_checks import VanishingTemperatureWarning, temperature
from test_argument_checks import VALID
from test_reliability import write_light_config
from test_tools import free_port

SCRIPT_ARGUMENTS = {'dist_train.sh': ['CONFIG'], 'dist_test.sh': ['CONFIG', 'CHECKPOINT'],
                    'dist_cache_teacher.sh': ['CONFIG']}


@pytest.mark.parametrize('script', sorted(SCRIPT_ARGUMENTS))
@pytest.mark.parametrize('gpus', [None, '0', '-1', 'two', '1.5', '', '2x'])
def test_a_missing_or_bad_gpus_prints_the_usage_line(script, gpus):
    arguments = SCRIPT_ARGUMENTS[script] + ([] if gpus is None else [gpus])
    result = subprocess.run(['bash', f'tools/{script}', *arguments], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHON=PYTHON, PORT=free_port()), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(f'usage: bash tools/{script} ' + ' '.join(SCRIPT_ARGUMENTS[script]) + ' GPUS'), lines
    if gpus is not None:
        assert lines[0] == f"{script}: GPUS must be an integer >= 1, got '{gpus}'"
    assert 'Traceback' not in result.stderr and 'unbound variable' not in result.stderr


def test_under_torchrun_the_block_is_the_last_thing_printed(tmp_path, r18_checkpoint):
    config = write_light_config(tmp_path / 'distill.py', str(tmp_path / 'no_data'), r18_checkpoint, max_iters=2)
    result = subprocess.run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(tmp_path / 'run')],
                            cwd=REPO, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PYTHON=PYTHON, PORT=free_port()))
    assert result.returncode != 0
    block = result.stderr[result.stderr.rindex('\n==== train.py stopped'):]
    assert block.startswith('\n==== train.py stopped: DatasetPathError ====\ntrain_dataloader: image folder')
    assert block.rstrip().endswith('(MMSEG_KD_DEBUG=1 prints the traceback)')  # nothing after it
    assert 'ChildFailedError' in result.stderr[:-len(block)]  # torchrun's report comes before it
    assert result.stderr.count('==== train.py stopped') == 1


# --------------------------------------------------------------------------------------------- fetch_teacher.py
@pytest.fixture(scope='module')
def fetch_teacher():
    spec = importlib.util.spec_from_file_location('fetch_teacher', REPO / 'tools' / 'fetch_teacher.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def teacher_config(tmp_path, checkpoint, cache_dir=None):
    config = tmp_path / 'distill.py'
    cache = f", checkpoint_cache_dir='{cache_dir}'" if cache_dir else ''
    config.write_text(f"_base_ = ['{CWD_DISTILL_CFG}']\nmodel = dict(teacher=dict(checkpoint='{checkpoint}', "
                      f'checkpoint_sha256=None{cache}))\n')
    return str(config)


def whole_and_cut(tmp_path):
    """A complete checkpoint's bytes and the same cut in half."""
    torch.save({'state_dict': {'w': torch.arange(4096.0)}}, tmp_path / 'whole.pth')
    whole = (tmp_path / 'whole.pth').read_bytes()
    return whole, whole[:len(whole) // 2]


@pytest.mark.parametrize('content, expected', [
    ('cut', 'not a usable checkpoint: teacher checkpoint'),
    (b'<html>502 Bad Gateway</html>', 'not a usable checkpoint: teacher checkpoint'),
    (b'', 'not a usable checkpoint'),
    ('plain list', 'holds no state dict'),
])
def test_an_unhashed_file_must_be_a_complete_checkpoint(fetch_teacher, tmp_path, capsys, content, expected):
    whole, cut = whole_and_cut(tmp_path)
    if content == 'plain list':
        torch.save([1, 2, 3], tmp_path / 'teacher.pth')
    else:
        (tmp_path / 'teacher.pth').write_bytes(cut if content == 'cut' else content)
    local = str(tmp_path / 'teacher.pth')
    assert fetch_teacher.main([teacher_config(tmp_path, local), '--check']) == 1
    assert expected in capsys.readouterr().out
    url = 'https://example.invalid/teacher.pth'  # in the cache, as placed by hand: no download is attempted
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'teacher.pth').write_bytes((tmp_path / 'teacher.pth').read_bytes())
    assert fetch_teacher.main([teacher_config(tmp_path, url, cache), '--check']) == 1
    assert expected in capsys.readouterr().out
    (cache / 'teacher.pth').write_bytes(whole)
    assert fetch_teacher.main([teacher_config(tmp_path, url, cache), '--check']) == 0
    assert 'OK: the teacher checkpoint is in the cache' in capsys.readouterr().out


# ------------------------------------------------------------------------------------------------- temperatures
def temperature_arguments(cls) -> list:
    return [name for name in inspect.signature(cls.__init__).parameters if name == 'tau' or name.endswith('_tau')]


LOSSES_WITH_TEMPERATURE = [(name, argument) for name in registered_distill_losses()
                           for argument in temperature_arguments(MODELS.get(name))]


def test_the_losses_with_a_temperature_are_found():
    assert len({name for name, _ in LOSSES_WITH_TEMPERATURE}) >= 7
    assert ('MemoryPixelRegionContrast', 'kd_tau') in LOSSES_WITH_TEMPERATURE


@pytest.mark.parametrize('name, argument', LOSSES_WITH_TEMPERATURE,
                         ids=[f'{n}.{a}' for n, a in LOSSES_WITH_TEMPERATURE])
def test_every_loss_warns_of_a_temperature_that_makes_its_term_vanish(name, argument):
    kwargs = {key: value for key, value in VALID[name].items() if key not in ('student', 'teacher', 'connector')}
    with pytest.warns(VanishingTemperatureWarning, match=f'{name}: {argument}=1e-08 is so small that the term '
                                                         'vanishes'):
        MODELS.build(dict(kwargs, type=name, **{argument: 1e-8}))
    with warnings.catch_warnings():
        warnings.simplefilter('error', VanishingTemperatureWarning)
        MODELS.build(dict(kwargs, type=name, **{argument: 0.05}))


@pytest.mark.parametrize('value, warns', [(1e-8, True), (0.009, True), (0.01, False), (4.0, False)])
def test_the_warning_starts_below_a_hundredth(value, warns):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        assert temperature('Loss', 'tau', value) == value
    assert any(issubclass(w.category, VanishingTemperatureWarning) for w in caught) == warns
