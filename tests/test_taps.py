"""Taps record module outputs/inputs by path; pre-activation values survive in-place ReLU."""
import pytest
import torch
from mmcv.cnn import ConvModule
from torch import nn

from mmseg_kd.distillers.taps import Tap, TapRecorder, UnknownTapError, parse_tap


class TwoBlocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = ConvModule(3, 4, 3, padding=1, norm_cfg=dict(type='BN'),
                                act_cfg=dict(type='ReLU', inplace=True))
        self.head = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        return self.head(self.block(x))


def test_norm_tap_before_inplace_relu_records_pre_activation_values():
    torch.manual_seed(0)
    net = TwoBlocks().eval()
    assert net.block.activate.inplace
    x = torch.randn(2, 3, 5, 5)
    pre_activation = net.block.bn(net.block.conv(x))
    assert (pre_activation < 0).any()
    tap = Tap('block.bn')
    recorder = TapRecorder(net, [tap], 'student')

    with recorder.recording():  # without a copy the recorded tensor is overwritten by the ReLU
        net(x)
    assert torch.equal(recorder.get(tap), pre_activation.clamp(min=0))
    assert recorder.taps_modified_in_place() == {tap}

    recorder.copy_at_record_time(recorder.taps_modified_in_place())
    with recorder.recording():
        net(x)
    assert torch.equal(recorder.get(tap), pre_activation)


def test_output_and_input_taps():
    net = TwoBlocks().eval()
    x = torch.randn(1, 3, 4, 4)
    out_tap, in_tap = parse_tap('head'), parse_tap(dict(module='head', record='input'))
    recorder = TapRecorder(net, [out_tap, in_tap], 'teacher')
    with recorder.recording():
        y = net(x)
    assert torch.equal(recorder.get(out_tap), y)
    assert torch.equal(recorder.get(in_tap), net.block(x))
    assert recorder.taps_modified_in_place() == set()
    net(x)  # outside recording() nothing is recorded
    recorder.clear()
    with pytest.raises(RuntimeError, match='recorded nothing'):
        recorder.get(out_tap)


def test_unknown_path_names_the_closest_valid_paths():
    with pytest.raises(UnknownTapError, match=r"no module 'block\.bnn'.*'block\.bn'"):
        TapRecorder(TwoBlocks(), [Tap('block.bnn')], 'student')


def test_bad_tap_specs_are_refused():
    with pytest.raises(ValueError, match='record must be one of'):
        parse_tap(dict(module='head', record='grad'))
    with pytest.raises(ValueError, match='module path string'):
        parse_tap(3)


class SharedConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.conv(self.conv(x))


def test_module_run_twice_is_reported():
    net = SharedConv()
    recorder = TapRecorder(net, [Tap('conv')], 'student')
    with recorder.recording():
        net(torch.randn(1, 2, 2, 2))
    with pytest.raises(RuntimeError, match='ran 2 times'):
        recorder.get(Tap('conv'))


# ------------------------------------------------------------------------- pre-activation of ResNet stages
def mmseg_resnet(depth):
    from mmseg.models.backbones import ResNet
    torch.manual_seed(0)
    net = ResNet(depth=depth, num_stages=2, out_indices=(0, 1), strides=(1, 2), dilations=(1, 1))
    net.eval()  # mmseg's ResNet.train() returns None
    for module in net.modules():  # non-trivial BN statistics and affine parameters
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.bias.data.uniform_(-1.0, 1.0)
    return net


def manual_pre_activation(block, x):
    """The last block's residual sum before its final ReLU, computed step by step."""
    identity = x if block.downsample is None else block.downsample(x)
    if hasattr(block, 'conv3'):  # Bottleneck
        out = torch.relu(block.norm1(block.conv1(x)))
        out = torch.relu(block.norm2(block.conv2(out)))
        return block.norm3(block.conv3(out)) + identity
    out = torch.relu(block.norm1(block.conv1(x)))
    return block.norm2(block.conv2(out)) + identity


@pytest.mark.parametrize('depth', [18, 50])  # BasicBlock (relu called 2x per block), Bottleneck (3x)
def test_pre_activation_tap_of_a_real_resnet_stage(depth):
    net = mmseg_resnet(depth)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        stem = net.maxpool(net.stem(x) if net.deep_stem else net.relu(net.norm1(net.conv1(x))))
        stage1 = net.layer1(stem)
        before_last = nn.Sequential(*list(net.layer2)[:-1])(stage1)
        expected = manual_pre_activation(net.layer2[-1], before_last)
    assert (expected < 0).any()  # the block output before its final ReLU has negative values
    stage_tap, block_tap = Tap('layer2', 'pre_activation'), Tap('layer1.0', 'pre_activation')
    recorder = TapRecorder(net, [stage_tap, block_tap], 'teacher')
    for _ in range(2):  # the first forward learns the relu's call count, the second uses it
        with torch.no_grad(), recorder.recording():
            outputs = net(x)
        assert torch.allclose(recorder.get(stage_tap), expected, atol=1e-5)
        assert torch.equal(torch.relu(recorder.get(stage_tap)), outputs[1])
        assert torch.allclose(recorder.get(block_tap), manual_pre_activation(net.layer1[0], stem), atol=1e-5)
    expected_calls = 3 if depth == 50 else 2
    assert recorder._relu_calls == {stage_tap: expected_calls, block_tap: expected_calls}


def test_pre_activation_tap_in_training_mode_keeps_gradients():
    net = mmseg_resnet(18)
    net.train()
    tap = Tap('layer2', 'pre_activation')
    recorder = TapRecorder(net, [tap], 'student')
    x = torch.randn(2, 3, 32, 32)
    for _ in range(2):
        with recorder.recording():
            outputs = net(x)
    recorded = recorder.get(tap)
    assert torch.equal(torch.relu(recorded), outputs[1]) and (recorded < 0).any()
    recorded.sum().backward()
    assert net.layer2[-1].conv2.weight.grad.abs().sum() > 0


def test_pre_activation_needs_a_block_with_a_final_relu():
    net = mmseg_resnet(18)
    with pytest.raises(ValueError, match=r"not a residual block.*'block\.bn'"):
        TapRecorder(TwoBlocks(), [Tap('block', 'pre_activation')], 'student')
    with pytest.raises(ValueError, match='not a residual block'):
        TapRecorder(net, [Tap('layer1.0.conv1', 'pre_activation')], 'student')


class ReluNotLast(nn.Module):
    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return self.conv(self.relu(x))


def test_pre_activation_checks_that_the_relu_made_the_output():
    net = nn.Sequential(ReluNotLast())
    recorder = TapRecorder(net, [Tap('0', 'pre_activation')], 'student')
    with pytest.raises(ValueError, match='output is not its `relu` applied'):
        with recorder.recording():
            net(torch.randn(1, 2, 2, 2))


def test_taps_survive_the_runner_replacing_sync_batchnorm():
    """mmengine reverts SyncBN to BN (new module objects) on every single-process run; the tap must follow."""
    from mmengine.model import revert_sync_batchnorm

    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.SyncBatchNorm(4), nn.ReLU()).eval()
    tap = Tap('1')
    recorder = TapRecorder(net, [tap], 'student')
    assert revert_sync_batchnorm(net) is net  # children are replaced in place, as in the runner
    assert not isinstance(net[1], nn.SyncBatchNorm)
    x = torch.randn(2, 3, 4, 4)
    with recorder.recording():
        net(x)
    assert torch.equal(recorder.get(tap), net[1](net[0](x)))
