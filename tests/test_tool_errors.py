"""The tools stop on a user's mistake with one short block (what, where, the fix) and exit status 1, keep the
traceback in the log, print it once under torchrun, and keep full tracebacks for unexpected errors. Also: the
non-finite-loss stop names the checkpoint to go back to; --amp without a GPU, one image per process with batch norm,
a busy distributed port and export_student.py's inputs get such a block."""
import os
import socket
import subprocess
import time
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmseg.registry import MODELS
from torch import nn

from conftest import PYTHON, REPO, STUDENT_CFG
from mmseg_kd.engine import tool_errors
from mmseg_kd.engine.hooks.non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from mmseg_kd.engine.tool_errors import run_tool, user_facing_message
from mmseg_kd.utils import UserInputError
from test_reliability import write_light_config
from test_tools import free_port, run


@pytest.fixture
def single_process(monkeypatch):
    for name in ('MMSEG_KD_DEBUG', 'RANK', 'WORLD_SIZE', 'SLURM_PROCID', 'SLURM_NTASKS'):
        monkeypatch.delenv(name, raising=False)


def fail_with(error):
    def main():
        raise error
    return main


# ------------------------------------------------------------------------------------------ the block, in-process
def test_a_user_error_is_one_block_on_stderr_and_its_traceback_goes_to_the_log(single_process, tmp_path, capsys):
    log_file = tmp_path / 'run.log'
    MMLogger.get_instance('tool-errors-block', log_file=str(log_file))  # the current logger, as a runner makes it
    with pytest.raises(SystemExit) as stop:
        run_tool(fail_with(UserInputError('images folder x is empty. Fix: y')), tool='train.py')
    assert stop.value.code == 1
    assert capsys.readouterr().err == ('\n==== train.py stopped: UserInputError ====\n'
                                       'images folder x is empty. Fix: y\n'
                                       f'(the traceback is in {log_file}; MMSEG_KD_DEBUG=1 prints it here)\n')
    logged = log_file.read_text()
    assert 'Traceback (most recent call last)' in logged and 'UserInputError: images folder x is empty' in logged


def test_unexpected_errors_keep_their_traceback_and_debug_shows_every_one(single_process, monkeypatch, capsys):
    with pytest.raises(RuntimeError, match='a bug'):
        run_tool(fail_with(RuntimeError('a bug')), tool='train.py')
    monkeypatch.setenv('MMSEG_KD_DEBUG', '1')
    with pytest.raises(UserInputError, match='images'):
        run_tool(fail_with(UserInputError('images')), tool='train.py')
    assert capsys.readouterr().err == ''
    monkeypatch.setenv('MMSEG_KD_DEBUG', 'yes')
    with pytest.raises(SystemExit):
        run_tool(fail_with(RuntimeError('not reached')), tool='train.py')
    assert "MMSEG_KD_DEBUG must be 1 (print tracebacks) or 0, got 'yes'" in capsys.readouterr().err


def test_another_rank_waits_for_torchrun_to_stop_it_then_prints_naming_itself(single_process, monkeypatch, capsys):
    monkeypatch.setenv('RANK', '1')
    monkeypatch.setenv('WORLD_SIZE', '2')
    monkeypatch.setattr(tool_errors, 'OTHER_RANKS_WAIT_S', 0.3)
    started = time.time()
    with pytest.raises(SystemExit):
        run_tool(fail_with(UserInputError('bad image on this rank')), tool='train.py')
    assert time.time() - started >= 0.3
    assert '==== train.py stopped on rank 1: UserInputError ====\nbad image on this rank' in capsys.readouterr().err


def test_known_errors_of_mmengine_and_torch_get_their_fix():
    with pytest.raises(KeyError) as unknown_type:
        MODELS.build(dict(type='PSPNett'))
    message = user_facing_message(unknown_type.value)
    assert message.startswith('PSPNett is not in the mmseg::model registry')
    assert "custom_imports = dict(imports=['package']" in message
    with pytest.raises(ValueError) as single_value:
        nn.BatchNorm2d(2).train()(torch.zeros(1, 2, 1, 1))
    message = user_facing_message(single_value.value)
    assert 'input of size torch.Size([1, 2, 1, 1])' in message
    assert '--cfg-options train_dataloader.batch_size=2' in message
    assert user_facing_message(ValueError('some bug')) is None


# ------------------------------------------------------------------------------ the non-finite-loss stop, in-process
class Run:
    """Drives a NonFiniteLossHook as mmengine's loop does: after_train_iter with the logged losses, then
    CheckpointHook's record of a saved checkpoint (``last_ckpt`` in the message hub) when one is saved."""

    def __init__(self, folder, hub=None, start=0):
        self.folder, self.hook = folder, NonFiniteLossHook()
        self.runner = SimpleNamespace(iter=start, message_hub=hub or MessageHub(f'nfl-{id(self)}'))

    def step(self, loss, save=True):
        self.hook.after_train_iter(self.runner, 0, outputs=dict(loss=torch.tensor(loss),
                                                                 **{'distill.loss_kd': torch.tensor(loss / 2)}))
        self.runner.iter += 1
        if save:
            path = self.folder / f'iter_{self.runner.iter}.pth'
            path.write_bytes(b'checkpoint')
            self.runner.message_hub.update_info('last_ckpt', str(path))


def test_the_stop_names_the_last_checkpoint_before_the_run_diverged(tmp_path):
    """The total losses of a real run at lr=1e6 (checkpoint every iteration): finite but exploding from iteration 2,
    NaN at iteration 4."""
    run = Run(tmp_path)
    for loss in (4.098, 1.137e14, 1.125e18):
        run.step(loss)
    with pytest.raises(NonFiniteLossError) as stop:
        run.step(float('nan'))
    message = str(stop.value)
    assert message.startswith('non-finite loss at iteration 4: distill.loss_kd=nan.')
    assert (f'its total loss reached 1.14e+14 at iteration 2, over 100x its initial 4.1; {tmp_path}/iter_2.pth and '
            'later checkpoints hold the diverging run.') in message
    assert f'below 100x the initial loss (4.1): {tmp_path}/iter_1.pth (iteration 1).' in message
    assert f'tools/train.py CONFIG --resume {tmp_path}/iter_1.pth restores its optimizer state' in message
    assert 'Lower the learning rate' in message


def test_the_verdicts_survive_a_resume(tmp_path):
    run = Run(tmp_path)
    run.step(4.0)
    run.step(9e5)  # diverging (> 400), saved as iter_2.pth: the resumed checkpoint
    saved_hub = run.runner.message_hub.state_dict()
    resumed_hub = MessageHub('nfl-resumed')
    resumed_hub.load_state_dict(saved_hub)
    resumed = Run(tmp_path, hub=resumed_hub, start=2)
    resumed.step(3e9)
    with pytest.raises(NonFiniteLossError) as stop:
        resumed.step(float('inf'))
    assert f'{tmp_path}/iter_2.pth and later checkpoints hold the diverging run' in str(stop.value)
    assert f'(4): {tmp_path}/iter_1.pth (iteration 1)' in str(stop.value)


def test_a_healthy_rise_is_not_divergence_and_no_checkpoint_is_said_so(tmp_path):
    run = Run(tmp_path)
    for loss in (1.0, 0.8, 15.0, 12.0):  # a distillation weight warming up: 15x, not 100x
        run.step(loss)
    with pytest.raises(NonFiniteLossError) as stop:
        run.step(float('nan'))
    assert 'diverged' not in str(stop.value)
    assert f'(0.8): {tmp_path}/iter_4.pth (iteration 4)' in str(stop.value)
    early = Run(tmp_path / 'early')
    early.step(2.0, save=False)
    with pytest.raises(NonFiniteLossError, match='No checkpoint has been saved yet'):
        early.step(float('nan'))


@pytest.mark.parametrize('factor', [True, '100', 1.0])
def test_the_explosion_factor_must_be_a_number_above_one(factor):
    with pytest.raises(UserInputError, match='explosion_factor must be a number > 1'):
        NonFiniteLossHook(explosion_factor=factor)


# ------------------------------------------------------------------------------------------- the tools, subprocess
def stopped(*args, env=None, timeout=900):
    """Run a tool that must stop on a user error with exit status 1: its stdout and stderr."""
    result = subprocess.run([str(a) for a in args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, PYTHON=PYTHON, **(env or {})))
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    return result.stdout, result.stderr


def test_amp_without_a_gpu_is_refused_before_anything_is_built(tmp_path):
    config = tmp_path / 'student.py'
    config.write_text(f"_base_ = ['{STUDENT_CFG}']\n")
    stdout, stderr = stopped(PYTHON, 'tools/train.py', config, '--amp', '--work-dir', tmp_path / 'run',
                             env=dict(CUDA_VISIBLE_DEVICES=''))
    assert stderr.endswith('==== train.py stopped: UserInputError ====\n--amp (optim_wrapper.type=AmpOptimWrapper) '
                           'trains in float16 on a GPU, and this machine has none (torch sees no CUDA, NPU, MLU or '
                           "MUSA device). Drop --amp, or set optim_wrapper.type='OptimWrapper' if the config itself "
                           'asks for AMP.\n(MMSEG_KD_DEBUG=1 prints the traceback)\n')
    assert 'Config:' not in stdout  # stopped before the runner


def test_one_image_per_process_with_batch_norm_names_the_batch_size(tmp_path, cityscapes_root, r18_checkpoint):
    config = write_light_config(tmp_path / 'distill.py', cityscapes_root, r18_checkpoint, max_iters=2,
                                extra="train_dataloader['batch_size'] = 1")
    _, stderr = stopped(PYTHON, 'tools/train.py', config, '--work-dir', tmp_path / 'run')
    block = stderr[stderr.index('==== train.py stopped: ValueError ===='):]
    assert 'A batch-norm layer got one value per channel in training' in block
    assert 'e.g. --cfg-options train_dataloader.batch_size=2' in block
    (log,) = (tmp_path / 'run').glob('*/*.log')
    assert f'(the traceback is in {log}; MMSEG_KD_DEBUG=1 prints it here)' in block
    assert 'Expected more than 1 value per channel when training' in log.read_text()


@pytest.mark.parametrize('script', ['dist_train.sh', 'dist_test.sh', 'dist_cache_teacher.sh'])
def test_a_busy_distributed_port_names_the_variable_to_change(script):
    with socket.create_server(('127.0.0.1', 0)) as busy:
        port = busy.getsockname()[1]
        arguments = ['CONFIG', 'CHECKPOINT', '2'] if script == 'dist_test.sh' else ['CONFIG', '2']
        result = subprocess.run(['bash', f'tools/{script}', *arguments], cwd=REPO, capture_output=True, text=True,
                                env=dict(os.environ, PYTHON=PYTHON, PORT=str(port)), timeout=120)
    assert result.returncode == 1
    assert result.stderr == (f'{script}: port {port} is already in use on this machine (another distributed job?). '
                             f'Give this job another port, e.g. PORT={port + 1} bash tools/{script} ...\n')


def test_under_torchrun_the_block_is_printed_once(tmp_path, r18_checkpoint):
    config = write_light_config(tmp_path / 'distill.py', str(tmp_path / 'no_data'), r18_checkpoint, max_iters=2)
    result = subprocess.run(['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(tmp_path / 'run')],
                            cwd=REPO, capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PYTHON=PYTHON, PORT=free_port()))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert output.count('==== train.py stopped') == 1, output[-3000:]
    assert '==== train.py stopped: DatasetPathError ====\ntrain_dataloader: image folder' in output


def test_export_student_scopes_a_self_contained_config_and_refuses_a_plain_one(tmp_path, r18_checkpoint):
    """A distillation config that inherits nothing from mmseg (no default scope) exports; a plain config is refused
    with what export_student.py needs instead."""
    student = tmp_path / 'student_self_contained.py'
    Config(dict(model=Config.fromfile(str(STUDENT_CFG)).model.to_dict())).dump(str(student))
    distill = tmp_path / 'distill_self_contained.py'
    distill.write_text(f"""model = dict(type='SegDistiller', student=dict(cfg_path='{student}'),
             teacher=dict(cfg_path='{student}', checkpoint=None),
             distill_losses=dict(loss_kd=dict(type='KLDivergence', student='decode_head.conv_seg',
                                              teacher='decode_head.conv_seg')))
""")
    weights = torch.load(r18_checkpoint, weights_only=True)['state_dict']
    distilled = tmp_path / 'distilled.pth'
    torch.save({'state_dict': {'student.' + key: value for key, value in weights.items()}, 'meta': {'iter': 7}},
               distilled)
    output = run(PYTHON, 'tools/export_student.py', distill, distilled, tmp_path / 'student.pth')
    assert f'reading {distilled}\nbuilding the student ({student}) to check the weights against it' in output
    exported = torch.load(tmp_path / 'student.pth', weights_only=True)
    assert exported['meta']['iter'] == 7
    assert exported['state_dict'].keys() == weights.keys()
    for key, value in weights.items():
        assert torch.equal(exported['state_dict'][key], value), key

    _, stderr = stopped(PYTHON, 'tools/export_student.py', STUDENT_CFG, distilled, tmp_path / 'out.pth')
    assert (f"==== export_student.py stopped: UserInputError ====\n{STUDENT_CFG} builds a plain segmentor "
            "(model.type='EncoderDecoder'), not a distillation: export_student.py takes the distillation config") \
        in stderr
