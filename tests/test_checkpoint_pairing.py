"""Checkpoints pair up strictly with the model of the config: --resume and load_from load all of the model's weights
or stop naming the keys; a distillation checkpoint and an exported student serve both the distillation config and the
student's own config; tools/test.py evaluates the student of a distillation config without building the teacher."""
import re
import subprocess
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmseg.apis import inference_model, init_model
from PIL import Image
from torch import nn

from conftest import PYTHON, REPO, STUDENT_CFG
from mmseg_kd.checkpoint import CheckpointMismatchError
from mmseg_kd.checkpoint.state_dict_pairing import load_paired_state_dict
from mmseg_kd.engine.evaluation_model import evaluation_model_config
from mmseg_kd.engine.hooks.checkpoint_pairing_hook import CheckpointPairingHook
from mmseg_kd.utils import UserInputError
from test_reliability import write_light_config
from test_tools import run


class Student(nn.Module):
    """A segmentor's layout: backbone (conv, BN) and decode_head.conv_seg."""

    def __init__(self, classes=19):
        super().__init__()
        self.backbone = nn.Sequential()
        self.backbone.add_module('conv', nn.Conv2d(3, 4, 3))
        self.backbone.add_module('bn', nn.BatchNorm2d(4))
        self.decode_head = nn.Module()
        self.decode_head.conv_seg = nn.Conv2d(4, classes, 1)


class Distiller(nn.Module):
    """A distiller's layout: student.*, a connector and a loss buffer."""

    def __init__(self, connector=True):
        super().__init__()
        self.student = Student()
        self.connectors = nn.ModuleDict(dict(loss_fitnet=nn.Conv2d(4, 8, 1, bias=False)) if connector else {})
        self.distill_losses = nn.ModuleDict(dict(loss_cgd=nn.Module()))
        self.distill_losses.loss_cgd.register_buffer('channel_permutation', torch.arange(19))


class WithExtraState(nn.Module):
    """Keeps a counter in its state dict beyond its parameters, as the adversarial loss keeps its optimizer's."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.steps = 0

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + 'steps'] = torch.tensor(self.steps)

    def _load_from_state_dict(self, state_dict, prefix, *args):
        self.steps = int(state_dict.pop(prefix + 'steps', torch.tensor(0)))
        super()._load_from_state_dict(state_dict, prefix, *args)


def distinct(model, prefix=''):
    """The model's state dict with distinct values per key (so a key loaded into the wrong place would show)."""
    return OrderedDict((prefix + key, torch.full_like(value, float(index + 7)))
                       for index, (key, value) in enumerate(model.state_dict().items()))


def load(model, state_dict, **kwargs):
    return load_paired_state_dict(model, state_dict, what="checkpoint 'x.pth'", config_hint='cfg.py', **kwargs)


def assert_holds(model, expected):
    own = model.state_dict()
    for key, value in expected.items():
        assert torch.equal(own[key], value), key


# ---------------------------------------------------------------------------------------------- pairing, in-process
def test_a_student_model_takes_the_student_weights_of_a_distillation_buildpoint():
    checkpoint = distinct(Distiller())
    student = Student()
    paired = load(student, checkpoint)
    expected = {key[len('student.'):]: value for key, value in checkpoint.items() if key.startswith('student.')}
    assert list(paired.state_dict) == list(expected)
    assert_holds(student, expected)
    assert '9 tensors are loaded (2 tensors of connectors and loss buffers are not part of the student)' \
        in paired.notes[0]


def test_a_distiller_takes_a_plain_checkpoint_as_its_student_and_keeps_its_own_parts():
    checkpoint = distinct(Student())
    distiller = Distiller()
    connector = distiller.connectors.loss_fitnet.weight.clone()
    paired = load(distiller, checkpoint)
    assert_holds(distiller.student, checkpoint)
    assert torch.equal(distiller.connectors.loss_fitnet.weight, connector)
    assert 'connectors.loss_fitnet, distill_losses.loss_cgd keep their initialisation' in paired.notes[0]
    assert list(paired.state_dict) == ['student.' + key for key in checkpoint]


def test_exact_checkpoint_loads_with_a_ddp_prefix_without_bn_counters_and_with_extra_state():
    checkpoint = distinct(Student(), prefix='module.')
    del checkpoint['module.backbone.bn.num_batches_tracked']  # as mmengine's loader, BN counters may be absent
    student = Student()
    paired = load(student, checkpoint)
    assert_holds(student, {key[len('module.'):]: value for key, value in checkpoint.items()})
    assert paired.notes == [] and paired.left_out == ''
    saved = WithExtraState()
    saved.steps = 5
    loaded = WithExtraState()
    load(loaded, saved.state_dict())  # 'steps' is not in a fresh state dict's keys, yet it is consumed
    assert loaded.steps == 5


def test_resume_translates_nothing_and_says_how_to_load_the_weights_instead():
    with pytest.raises(CheckpointMismatchError) as plain_into_distiller:
        load(Distiller(), distinct(Student()), resume=True)
    message = str(plain_into_distiller.value)
    assert "checkpoint 'x.pth' does not match the model built from cfg.py" in message
    assert '10 key(s) the model needs are missing' in message  # 8 of the student (not its BN counter), 2 parts
    assert 'student.backbone.*  (6 key(s), e.g. student.backbone.bn.bias)' in message
    assert 'The checkpoint holds a plain segmentor (no student.* keys)' in message
    assert '--cfg-options load_from=CHECKPOINT (without --resume)' in message
    with pytest.raises(CheckpointMismatchError, match=r"distillation run's \(student.\* keys\)"):
        load(Student(), distinct(Distiller()), resume=True)


def test_an_added_connector_is_named_for_resume_and_for_load():
    checkpoint = distinct(Distiller(connector=False))
    for resume in (True, False):
        with pytest.raises(CheckpointMismatchError) as error:
            load(Distiller(), checkpoint, resume=resume)
        message = str(error.value)
        assert '1 key(s) the model needs are missing from the checkpoint:\n    connectors.loss_fitnet.weight' \
            in message
        assert "The config has connectors.loss_fitnet, which the checkpoint's run did not have" in message
        assert '--partial-load' in message
        assert 'Check that the config describes the network' not in message  # the student matches
        assert ('--resume continues the run' in message) == resume


def test_other_network_lists_unexpected_and_mis_shaped_keys_and_partial_load_takes_what_matches():
    checkpoint = distinct(Student(classes=21))
    checkpoint['decode_head.extra.weight'] = torch.zeros(2)
    with pytest.raises(CheckpointMismatchError) as error:
        load(Student(), checkpoint)
    message = str(error.value)
    assert '1 key(s) in the checkpoint are not in the model:\n    decode_head.extra.weight' in message
    assert '2 key(s) have a different shape:\n    decode_head.conv_seg.bias: checkpoint (21,) vs model (19,)' \
        in message
    assert 'number of classes' in message
    student = Student()
    seg_weight = student.decode_head.conv_seg.weight.clone()
    paired = load(student, checkpoint, allow_partial=True)
    matching = {key: value for key, value in checkpoint.items() if 'decode_head' not in key}
    assert list(paired.state_dict) == list(matching)
    assert_holds(student, matching)
    assert torch.equal(student.decode_head.conv_seg.weight, seg_weight)
    assert paired.left_out.startswith('partial load: 7 tensors loaded, the rest left as it is.')
    assert 'decode_head.extra.weight' in paired.left_out


@pytest.mark.parametrize('value', ['True', 1, None])
def test_partial_load_switches_take_real_booleans_only(value):
    with pytest.raises(UserInputError, match='allow_partial_load must be True or False'):
        CheckpointPairingHook(allow_partial_load=value)
    with pytest.raises(UserInputError, match='allow_partial must be True or False'):
        load(Student(), distinct(Student()), allow_partial=value)


def test_resume_with_other_parameter_groups_names_the_counts():
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in range(3)]
    saved = OptimWrapper(torch.optim.SGD(params[:2], lr=0.1)).state_dict()
    built = OptimWrapper(torch.optim.SGD(params, lr=0.1))
    with pytest.raises(CheckpointMismatchError, match=r'parameters per group \[2\] in the checkpoint, \[3\] now'):
        CheckpointPairingHook._check_optimizer_state(saved, built, 'resume checkpoint', 'cfg.py')
    CheckpointPairingHook._check_optimizer_state(OptimWrapper(torch.optim.SGD(params, lr=0.1)).state_dict(), built,
                                                 'resume checkpoint', 'cfg.py')


def test_evaluation_builds_the_student_with_the_distillers_data_preprocessor():
    distill = Config.fromfile(str(REPO / 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'))
    student = Config.fromfile(str(STUDENT_CFG)).model
    assert evaluation_model_config(distill.model) == student
    distill.model['data_preprocessor'] = dict(type='SegDataPreProcessor', size=(32, 32))
    assert evaluation_model_config(distill.model)['data_preprocessor'] == dict(type='SegDataPreProcessor',
                                                                               size=(32, 32))
    assert evaluation_model_config(student) is student


# ------------------------------------------------------------------------------------- through the tools, subprocess
@pytest.fixture(scope='module')
def distilled(tmp_path_factory, cityscapes_root, r18_checkpoint):
    """A 2-iteration distillation run (no validation) and its checkpoint."""
    work = tmp_path_factory.mktemp('distilled')
    config = write_light_config(work / 'distill.py', cityscapes_root, r18_checkpoint, max_iters=2,
                                extra='train_cfg = dict(max_iters=2, val_begin=1000)')
    run(PYTHON, 'tools/train.py', config, '--work-dir', work / 'run')
    return dict(config=config, checkpoint=work / 'run' / 'iter_2.pth', folder=work)


def miou_by_hand(model, data_root: str) -> float:
    """mIoU (%) of a model's predictions on the validation scenes: per-class IoU over the pixels not ignored (255),
    averaged over the classes present in prediction or label."""
    intersection, union = np.zeros(19), np.zeros(19)
    for image in sorted(Path(data_root, 'leftImg8bit', 'val').rglob('*_leftImg8bit.png')):
        label_path = str(image).replace('leftImg8bit', 'gtFine', 1).replace('_leftImg8bit.png',
                                                                             '_gtFine_labelTrainIds.png')
        label = np.array(Image.open(label_path))
        prediction = inference_model(model, str(image)).pred_sem_seg.data[0].numpy()
        valid = label != 255
        for cls in range(19):
            predicted, labelled = (prediction == cls) & valid, (label == cls) & valid
            intersection[cls] += (predicted & labelled).sum()
            union[cls] += (predicted | labelled).sum()
    present = union > 0
    return float(100 * (intersection[present] / union[present]).mean())


def printed_miou(output: str) -> float:
    return float(re.search(r'Iter\(test\).*mIoU: (\d+\.\d+)', output).group(1))


def test_test_tool_evaluates_the_student_of_either_checkpoint_without_the_teacher(distilled, cityscapes_root,
                                                                                   tmp_path):
    """A distillation config (whose teacher file does not exist) with the exported student, and the student's own
    config with the distillation checkpoint, both report the mIoU of the student's weights, computed here by hand."""
    state = torch.load(distilled['checkpoint'], weights_only=True)['state_dict']
    exported = tmp_path / 'student.pth'
    torch.save({'state_dict': {key[len('student.'):]: value for key, value in state.items()
                               if key.startswith('student.')}, 'meta': {}}, exported)
    expected = miou_by_hand(init_model(str(STUDENT_CFG), str(exported), device='cpu'), cityscapes_root)

    no_teacher = tmp_path / 'distill_without_teacher_file.py'
    no_teacher.write_text(f"_base_ = ['{distilled['config']}']\n"
                          f"model = dict(teacher=dict(checkpoint='{tmp_path / 'absent_teacher.pth'}'))\n")
    output = run(PYTHON, 'tools/test.py', no_teacher, exported, '--work-dir', tmp_path / 'distill_config')
    assert printed_miou(output) == pytest.approx(expected, abs=0.006)

    output = run(PYTHON, 'tools/test.py', STUDENT_CFG, distilled['checkpoint'], '--work-dir',
                 tmp_path / 'student_config', '--cfg-options', f'test_dataloader.dataset.data_root={cityscapes_root}')
    assert "is a distillation checkpoint: its student's 172 tensors are loaded" in output
    assert printed_miou(output) == pytest.approx(expected, abs=0.006)


def stopped(*args, timeout=900):
    """Run a tool that must stop on a user error: its stderr."""
    result = subprocess.run([str(a) for a in args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    return result.stderr


def test_resuming_a_distillation_from_a_plain_checkpoint_stops(distilled, r18_checkpoint, tmp_path):
    stderr = stopped(PYTHON, 'tools/train.py', distilled['config'], '--work-dir', tmp_path / 'run',
                     '--resume', r18_checkpoint)
    assert f"==== train.py stopped: CheckpointMismatchError ====\nresume checkpoint '{r18_checkpoint}' does not " \
           f"match the model built from {distilled['config']}:" in stderr
    assert 'The checkpoint holds a plain segmentor (no student.* keys)' in stderr
    assert not list((tmp_path / 'run').glob('iter_*.pth'))


def test_resuming_after_a_connector_was_added_names_it(distilled, tmp_path):
    config = tmp_path / 'with_connector.py'
    config.write_text(f"_base_ = ['{distilled['config']}']\n"
                      "model = dict(distill_losses=dict(loss_fitnet=dict(type='FeatureMSE', "
                      "connector=dict(type='ConvConnector'), student='decode_head.bottleneck', "
                      "teacher='decode_head.bottleneck')))\n"
                      'train_cfg = dict(max_iters=3)\n')
    stderr = stopped(PYTHON, 'tools/train.py', config, '--work-dir', tmp_path / 'run', '--resume',
                     distilled['checkpoint'])
    assert '1 key(s) the model needs are missing from the checkpoint:\n    connectors.loss_fitnet.conv.weight' in stderr
    assert "The config has connectors.loss_fitnet, which the checkpoint's run did not have" in stderr
