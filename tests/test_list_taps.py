"""list_taps.py and the check behind it (the distiller's own ``build_distillation``), on real mmseg models (demo
configs at 64x128)."""
import importlib.util
import re
import warnings

import pytest
from torch import nn

from conftest import REPO, STUDENT_CFG, TEACHER_CFG
from mmseg_kd.analysis.distiller_networks import build_networks
from mmseg_kd.analysis.module_shapes import module_shapes
from mmseg_kd.distillers.distillation_build import build_distillation
from mmseg_kd.registry import MODELS

INPUT = (64, 128)
LOGITS = 'decode_head.conv_seg'
DEEPLABV3PLUS_R18 = dict(
    cfg_path='mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    cfg_options={'model.pretrained': None, 'model.backbone.norm_cfg.type': 'BN',
                 'model.decode_head.norm_cfg.type': 'BN', 'model.auxiliary_head.norm_cfg.type': 'BN'})


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'analysis' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@MODELS.register_module(force=True)
class ChannelMapForTests(nn.Module):
    """A 1x1 convolution standing in for a connector (the connectors are another module's business)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x, teacher_size):
        return self.conv(x)


@pytest.fixture(scope='module')
def pspnets():
    model_cfg = dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG)),
                     teacher=dict(cfg_path=str(TEACHER_CFG)))
    networks = build_networks(model_cfg)
    return networks, {role: module_shapes(model, INPUT) for role, model in networks.items()}


def check_reports(networks, losses):
    """The per-entry reports of the distiller's check (its tap hooks removed afterwards)."""
    checked = build_distillation(networks, losses, INPUT)
    for recorder in checked.recorders.values():
        recorder.remove()
    return checked.report.terms


def checks_by_name(pspnets, losses):
    networks, _ = pspnets
    return {check.name: check for check in check_reports(networks, losses)}


def test_every_module_is_described_and_tappability_is_explained(pspnets):
    _, walks = pspnets
    student = {shape.path: shape for shape in walks['student']}
    assert student[LOGITS].output_shape == (1, 19, 8, 16) and student[LOGITS].tappable
    assert student[LOGITS].input_shape == (1, 128, 8, 16)
    assert student['backbone.layer4'].output_shape == (1, 512, 8, 16)
    assert not student['backbone'].tappable
    assert student['backbone'].why_not_tappable == 'gives a tuple of 4: tap one element with index=i'
    assert student['backbone'].output == ('tuple of 4: [0] (1, 64, 16, 32), [1] (1, 128, 8, 16), [2] (1, 256, 8, 16), '
                                          '[3] (1, 512, 8, 16)')
    assert student['backbone.layer1.0.relu'].why_not_tappable == 'runs 2 times per forward pass'
    assert student['decode_head.loss_decode'].why_not_tappable == 'does not run in a forward pass'
    teacher = {shape.path: shape for shape in walks['teacher']}
    assert teacher['backbone.layer4'].output_shape == (1, 2048, 8, 16)
    assert len(teacher) > len(student)


def test_a_good_pair_checks_out(pspnets):
    check = checks_by_name(pspnets, dict(loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, student=LOGITS,
                                                        teacher=LOGITS)))['loss_cwd']
    assert check.ok and not check.notes and not check.fixes
    assert check.shapes == {'student': (1, 19, 8, 16), 'teacher': (1, 19, 8, 16)}


def test_every_problem_of_a_bad_config_is_reported_with_its_fix(pspnets):
    checks = checks_by_name(pspnets, dict(
        loss_typo=dict(type='ChannelWiseDivergence', student='decode_head.conv_sge', teacher=LOGITS),
        loss_features=dict(type='ChannelWiseDivergence', student='backbone.layer4', teacher='backbone.layer4'),
        loss_inputs=dict(type='KLDivergence', student=dict(module=LOGITS, record='input'),
                         teacher=dict(module=LOGITS, record='input')),
        loss_unknown=dict(type='KLDivergance', student=LOGITS, teacher=LOGITS),
        loss_tuple=dict(type='KLDivergence', student='backbone', teacher=LOGITS),
        cwd=dict(type='ChannelWiseDivergence', student=LOGITS, teacher=LOGITS)))
    assert not any(check.ok for check in checks.values())
    assert "student has no module 'decode_head.conv_sge'; closest: 'decode_head.conv_seg'" in \
        checks['loss_typo'].problems[0]
    assert checks['loss_typo'].shapes == {'teacher': (1, 19, 8, 16)}
    assert 'same number of channels, got student 512 and teacher 2048' in checks['loss_features'].problems[0]
    assert checks['loss_features'].fixes == [
        "channels 512 → 2048: add a 1x1 conv connector (connector=dict(type='ConvBNConnector'))"]
    assert checks['loss_inputs'].shapes == {'student': (1, 128, 8, 16), 'teacher': (1, 512, 8, 16)}
    assert checks['loss_inputs'].fixes[0].startswith('channels 128 → 512')
    assert 'unknown distillation loss type' in checks['loss_unknown'].problems[0]
    assert 'ChannelWiseDivergence' in checks['loss_unknown'].problems[0]
    assert ('student tap backbone: the module gives a tuple of 4: [0] (1, 64, 16, 32), [1] (1, 128, 8, 16), '
            '[2] (1, 256, 8, 16), [3] (1, 512, 8, 16), not a single tensor; pick one element with '
            'dict(module=..., index=i)') in checks['loss_tuple'].problems[0]
    assert "must start with 'loss_'" in checks['cwd'].problems[0]


def test_a_connector_is_run_on_the_student_tensor(pspnets):
    checks = checks_by_name(pspnets, dict(
        loss_connected=dict(type='ChannelWiseDivergence', student='backbone.layer4', teacher='backbone.layer4',
                            connector=dict(type='ChannelMapForTests', in_channels=512, out_channels=2048)),
        loss_wrong=dict(type='ChannelWiseDivergence', student='backbone.layer4', teacher='backbone.layer4',
                        connector=dict(type='ChannelMapForTests', in_channels=512, out_channels=1024)),
        loss_missing=dict(type='ChannelWiseDivergence', student='backbone.layer4', teacher='backbone.layer4',
                          connector=dict(type='NoSuchConnector'))))
    assert checks['loss_connected'].ok and checks['loss_connected'].connected_shape == (1, 2048, 8, 16)
    assert not checks['loss_wrong'].ok and checks['loss_wrong'].connected_shape == (1, 1024, 8, 16)
    assert 'fix its output channels' in checks['loss_wrong'].fixes[0]
    assert "connector {'type': 'NoSuchConnector'} cannot be built" in checks['loss_missing'].problems[0]


def test_different_sizes_are_resized_by_logit_losses():
    """DeepLabV3+ predicts at 1/4 of the input, PSPNet at 1/8 (and mmseg:: student configs load)."""
    model_cfg = dict(type='SegDistiller', student=DEEPLABV3PLUS_R18, teacher=dict(cfg_path=str(STUDENT_CFG)))
    networks = build_networks(model_cfg)
    (check,) = check_reports(networks, dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS)))
    assert check.ok and check.shapes['student'] == (1, 19, 16, 32)
    assert check.notes == ["H×W 16x32 → 8x16: the loss resizes the student map to the teacher's (bilinear)"]


def test_the_tool_reports_a_bad_tap_with_the_closest_paths_and_exits_1(tmp_path, capsys):
    config = tmp_path / 'bad_tap.py'
    config.write_text(f"""
_base_ = ['{REPO}/distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py']
model = dict(teacher=dict(cfg_path='{STUDENT_CFG}', checkpoint=None),
             distill_losses=dict(loss_cwd=dict(student='decode_head.conv_sge')))
""")
    list_taps = load_tool('list_taps')
    with warnings.catch_warnings(record=True) as warnings_seen:
        warnings.simplefilter('always')
        status = list_taps.main([str(config), '--network', 'student', '--filter', 'CONV_SEG'])
    output = capsys.readouterr().out
    assert status == 1
    assert 'RANDOMLY INITIALISED' not in output + ''.join(str(w.message) for w in warnings_seen)
    assert 'no checkpoint is read' in output
    assert "student has no module 'decode_head.conv_sge'; closest: 'decode_head.conv_seg'" in output
    assert '  decode_head.conv_seg     Conv2d  (1, 19, 8, 16)' in output  # --filter, case-insensitive
    assert 'backbone.layer4' not in output and '\nteacher:' not in output
    assert "teacher.checkpoint is None; training needs the teacher's trained weights" in output
    assert '1 problem(s) found' in output


def test_the_tool_lists_a_plain_mmseg_config(capsys):
    status = load_tool('list_taps').main([str(STUDENT_CFG), '--input-size', '32', '64', '--filter', 'layer4.0'])
    captured = capsys.readouterr()
    lines = {line.split()[0]: line for line in captured.out.splitlines() if line.startswith('  backbone.')}
    assert status == 0
    assert 'model: EncoderDecoder' in captured.out
    # ResNet-18-d8 at 1/8 of 32x64: layer3 gives 256 channels, layer4 512; columns: path, type, output, input
    assert re.split(r'\s{2,}', lines['backbone.layer4.0.conv1'].strip()) == [
        'backbone.layer4.0.conv1', 'Conv2d', '(1, 512, 4, 8)', '(1, 256, 4, 8)']
    assert '(1, 512, 4, 8)  [not tappable: runs 2 times per forward pass]' in lines['backbone.layer4.0.relu']
    assert 'Checking' not in captured.out
    assert 'running the model once on a 32x64 input to describe its modules ...' in captured.err  # what it does


def test_without_input_size_the_tool_uses_the_training_size_and_says_where_it_comes_from(capsys):
    """The demo student inherits mmseg's 512x1024 Cityscapes base, whose data preprocessor and crop_size it overrides
    with its own 64x128 crop: the tool lists at the size training really uses."""
    status = load_tool('list_taps').main([str(STUDENT_CFG), '--filter', 'layer4.0.conv1'])
    captured = capsys.readouterr()
    assert status == 0
    assert 'input size 64x128 (from train_dataloader.dataset.pipeline[3] (RandomCrop.crop_size))' in captured.err
    assert 'Shapes for one 64x128 image' in captured.out and '(1, 512, 8, 16)' in captured.out


def test_a_student_config_that_does_not_exist_is_named(tmp_path, capsys):
    config = tmp_path / 'missing_student.py'
    config.write_text(f"""
_base_ = ['{REPO}/distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py']
model = dict(student=dict(cfg_path='configs/demo/no_such_student.py'))
""")
    assert load_tool('list_taps').main([str(config)]) == 1
    assert "student.cfg_path 'configs/demo/no_such_student.py' was not found" in capsys.readouterr().err


def test_channel_advice_only_for_losses_that_compare_channels(pspnets):
    """Attention maps and pixel relations work for any two widths: no connector advice for them."""
    checks = checks_by_name(pspnets, dict(
        loss_at=dict(type='AttentionTransfer', student='backbone.layer4', teacher='backbone.layer4'),
        loss_relation=dict(type='MiniBatchPixelRelation', student='backbone.layer4', teacher='backbone.layer4')))
    for name in ('loss_at', 'loss_relation'):
        shapes = checks[name].shapes
        assert checks[name].ok and shapes['student'][1] == 512 and shapes['teacher'][1] == 2048
        assert checks[name].notes == [] and checks[name].fixes == []


def table_paths(lines):
    return [line.split()[0] for line in lines[1:] if line.startswith('  ') and not line.startswith(('  (', '   '))
            and 'modules listed' not in line]


@pytest.mark.parametrize('depth, substring', [(1, ''), (2, ''), (3, 'backbone'), (2, 'HEAD')])
def test_depth_lists_the_modules_at_most_n_levels_deep(pspnets, depth, substring):
    tool = load_tool('list_taps')
    walk = pspnets[1]['student']
    lines = tool.module_table(walk, substring, depth)
    expected = [shape.path for shape in walk
                if shape.path.count('.') < depth and substring.lower() in shape.path.lower()]
    assert table_paths(lines) == expected and expected
    hidden = sum(1 for shape in walk if substring.lower() in shape.path.lower()) - len(expected)
    assert f'  ({hidden} module(s) deeper than --depth {depth} not listed)' in lines


def test_a_long_listing_says_how_to_narrow_it(pspnets):
    tool = load_tool('list_taps')
    walk = pspnets[1]['student']  # PSPNet-R18: 116 modules, 73 of them in the backbone
    lines = tool.module_table(walk, '')
    by_depth = [sum(1 for shape in walk if shape.path.count('.') < level) for level in (1, 2, 3)]
    assert lines[-3:] == [
        f'  {len(walk)} modules listed; to narrow the list:',
        f"    --filter SUBSTRING lists the paths that contain it (e.g. --filter backbone.: "
        f"{sum(shape.path.startswith('backbone') for shape in walk)} modules)",
        f'    --depth N lists the modules at most N levels deep (--depth 1: {by_depth[0]} modules, --depth 2: '
        f'{by_depth[1]} modules, --depth 3: {by_depth[2]} modules)']
    short = tool.module_table(walk, 'layer4.0')  # 7 modules: no advice
    assert len(short) == 1 + len(table_paths(short)) and not any('narrow' in line for line in short)


def test_the_tool_takes_depth_and_refuses_a_depth_below_1(capsys):
    tool = load_tool('list_taps')
    assert tool.main([str(STUDENT_CFG), '--input-size', '32', '64', '--depth', '1']) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if line.startswith('  ') and line[2] != ' '][1:] == [
        'data_preprocessor', 'backbone', 'decode_head', 'auxiliary_head', '(112']
    with pytest.raises(SystemExit):
        tool.parse_args([str(STUDENT_CFG), '--depth', '0'])
    assert 'argument --depth: must be 1 or more, got 0' in capsys.readouterr().err
