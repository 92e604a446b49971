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
