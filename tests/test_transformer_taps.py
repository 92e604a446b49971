"""Taps on transformers and on modules with several outputs: real mmseg SegFormer-B0 (MiT) and Swin-T on tiny inputs.

Expected maps are computed by hand: the stages run module by module as mmseg's backbones run them, and tokens
(B, N, C) are placed on the (H, W) grid row by row (token n = h·W + w), written out with index arithmetic.
"""
import copy

import pytest
import torch
from torch import nn

from conftest import STUDENT_CFG, build_model
from mmseg_kd.analysis.module_shapes import module_shapes
from mmseg_kd.distillers.distillation_build import build_distillation
from mmseg_kd.distillers.forward_for_taps import forward_for_taps
from mmseg_kd.distillers.taps import Tap, TapRecorder, parse_tap

SEGFORMER_B0 = 'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py'
SWIN_T = 'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'
OFFLINE = {'model.pretrained': None, 'model.backbone.init_cfg': None}  # no ImageNet download
INPUT = (32, 64)  # MiT and Swin: 1/4 = 8x16, 1/8 = 4x8


def tokens_on_grid(tokens, height, width):
    """(B, N, C) tokens as a (B, C, H, W) map, element by element: map[b, c, h, w] = tokens[b, h·W + w, c]."""
    batch, length, channels = tokens.shape
    assert length == height * width
    grid = torch.empty(batch, channels, height, width)
    for h in range(height):
        for w in range(width):
            grid[:, :, h, w] = tokens[:, h * width + w, :]
    return grid


def record(model, taps, inputs):
    recorder = TapRecorder(model, taps, 'student')
    with torch.no_grad(), recorder.recording():
        forward_for_taps(model, inputs, [tap.module for tap in taps])
    recorded = {tap: recorder.get(tap) for tap in taps}
    recorder.remove()
    return recorded


@pytest.fixture(scope='module')
def segformer():
    torch.manual_seed(0)
    return build_model(SEGFORMER_B0, **OFFLINE, **{'model.decode_head.norm_cfg.type': 'BN'}).eval()


@pytest.fixture(scope='module')
def swin():
    torch.manual_seed(0)
    return build_model(SWIN_T, **OFFLINE).eval()


def test_a_mit_stage_its_blocks_and_its_patch_embedding_are_maps(segformer):
    torch.manual_seed(1)
    image = torch.randn(1, 3, *INPUT)
    stage, patch_embed, block, norm = (parse_tap(path) for path in (
        'backbone.layers.1', 'backbone.layers.1.0', 'backbone.layers.1.1.0', 'backbone.layers.1.2'))
    listed, decoder_input = Tap('backbone', index=1), Tap('decode_head', 'input', index=3)
    recorded = record(segformer, [stage, patch_embed, block, norm, listed, decoder_input], image)

    layers = segformer.backbone.layers
    with torch.no_grad():  # MiT's forward, written out: stage 0, then stage 1 module by module
        stage0 = image
        tokens, (height, width) = layers[0][0](stage0)
        for layer in layers[0][1]:
            tokens = layer(tokens, (height, width))
        stage0 = tokens_on_grid(layers[0][2](tokens), height, width)
        embedded, (height, width) = layers[1][0](stage0)
        first_block = layers[1][1][0](embedded, (height, width))
        tokens = layers[1][1][1](first_block, (height, width))
        normalised = layers[1][2](tokens)
        outputs = segformer.backbone(image)
    assert (height, width) == (4, 8) and normalised.shape == (1, 32, 64)
    assert torch.allclose(recorded[stage], tokens_on_grid(normalised, 4, 8), atol=1e-6)
    assert recorded[stage].shape == (1, 64, 4, 8)
    assert torch.allclose(recorded[patch_embed], tokens_on_grid(embedded, 4, 8), atol=1e-6)
    assert torch.allclose(recorded[block], tokens_on_grid(first_block, 4, 8), atol=1e-6)
    assert torch.allclose(recorded[norm], normalised, atol=1e-6)  # a LayerNorm carries no (H, W): tokens stay
    assert torch.equal(recorded[listed], outputs[1])  # the backbone's list, element 1: the same stage map
    assert torch.equal(recorded[decoder_input], outputs[3])


def test_a_swin_stage_is_its_own_output_before_the_patch_merging(swin):
    torch.manual_seed(1)
    image = torch.randn(1, 3, *INPUT)
    stage, merged, block = parse_tap('backbone.stages.1'), Tap('backbone.stages.1', index=0), \
        parse_tap('backbone.stages.1.blocks.0')
    recorded = record(swin, [stage, merged, block], image)

    backbone = swin.backbone
    with torch.no_grad():  # Swin's forward, written out
        tokens, size = backbone.patch_embed(image)
        tokens, size, _, _ = backbone.stages[0](backbone.drop_after_pos(tokens), size)
        first_block = backbone.stages[1].blocks[0](tokens, size)
        stage_tokens = backbone.stages[1].blocks[1](first_block, size)
        merged_tokens, merged_size = backbone.stages[1].downsample(stage_tokens, size)
        outputs = backbone(image)
    assert size == (4, 8) and merged_size == (2, 4)
    assert recorded[stage].shape == (1, 192, 4, 8)
    assert torch.allclose(recorded[stage], tokens_on_grid(stage_tokens, 4, 8), atol=1e-6)
    assert torch.allclose(recorded[merged], tokens_on_grid(merged_tokens, 2, 4), atol=1e-6)
    assert torch.allclose(recorded[block], tokens_on_grid(first_block, 4, 8), atol=1e-6)
    # The backbone returns the same map after its norm1 (over the channels of each position).
    normalised = backbone.norm1(recorded[stage].flatten(2).transpose(1, 2))
    assert torch.allclose(tokens_on_grid(normalised, 4, 8), outputs[1], atol=1e-5)


def test_list_taps_shows_the_maps_the_elements_and_the_inputs(segformer, swin):
    mit = {row.path: row for row in module_shapes(segformer, INPUT)}
    assert mit['backbone.layers.1'].tappable and mit['backbone.layers.1'].output_shape == (1, 64, 4, 8)
    assert mit['backbone.layers.1'].converted_from == 'the end of the chain of its 4 modules'
    assert mit['backbone.layers.1.0'].output_shape == (1, 64, 4, 8)
    assert mit['backbone.layers.1.0'].converted_from == 'from tokens (1, 32, 64) of 4x8 (element [0])'
    assert mit['backbone.layers.1.1.0'].input == '(1, 32, 64) with (H, W) = (4, 8)'
    assert mit['backbone.layers.1.1.0'].input_shape == (1, 64, 4, 8)
    assert mit['backbone.layers.1.2'].converted_from == 'tokens without their (H, W): not a map'
    assert mit['backbone'].output == ('list of 4: [0] (1, 32, 8, 16), [1] (1, 64, 4, 8), [2] (1, 160, 2, 4), '
                                      '[3] (1, 256, 1, 2)')
    assert mit['backbone'].why_not_tappable == 'gives a list of 4: tap one element with index=i'
    assert mit['decode_head.convs'].why_not_tappable.startswith(
        "its modules do not run one after another: 'decode_head.convs.1' does not take the output of "
        "'decode_head.convs.0'")
    swin_rows = {row.path: row for row in module_shapes(swin, INPUT)}
    assert swin_rows['backbone.stages.1'].output == \
        'tuple of 4: [0] (1, 8, 384), [1] (2, 4), [2] (1, 32, 192), [3] (4, 8)'
    assert swin_rows['backbone.stages.1'].output_shape == (1, 192, 4, 8)
    # mmseg's PPM is a ModuleList with its own forward: it runs, and returns a list
    assert swin_rows['decode_head.psp_modules'].why_not_tappable == 'gives a list of 4: tap one element with index=i'


def check(networks, losses):
    checked = build_distillation(networks, losses, INPUT)
    for recorder in checked.recorders.values():
        recorder.remove()
    return {term.name: term for term in checked.report.terms}, checked.report


def test_attention_transfer_from_a_cnn_stage_to_a_mit_stage_checks_out(segformer):
    teacher = build_model(STUDENT_CFG).eval()  # PSPNet-R18: its layer2 is at 1/8, as MiT's second stage
    terms, report = check(dict(student=segformer, teacher=teacher), dict(
        loss_at=dict(type='AttentionTransfer', loss_weight=10000.0, student='backbone.layers.1',
                     teacher='backbone.layer2'),
        loss_tokens=dict(type='AttentionTransfer', student='backbone.layers.1.2', teacher='backbone.layer2')))
    assert terms['loss_at'].ok and terms['loss_at'].shapes == {'student': (1, 64, 4, 8), 'teacher': (1, 128, 4, 8)}
    assert not terms['loss_tokens'].ok and report.problem_count == 1
    assert 'AttentionTransfer compares (B, C, H, W) feature maps, got student (1, 32, 64)' in \
        terms['loss_tokens'].problems[0]
    assert terms['loss_tokens'].fixes == [
        "student tap 'backbone.layers.1.2' gives tokens (1, 32, 64) (batch, length, channels) without their (H, W), "
        "so they stay a sequence: tap a module that carries the (H, W), e.g. a MiT stage 'backbone.layers.i', a Swin "
        "stage 'backbone.stages.i' or a transformer block, or the backbone's maps dict(module='backbone', index=i) "
        '(list_taps.py shows which modules give maps)']


def test_an_index_that_picks_no_tensor_is_named_with_what_the_module_gives(segformer):
    logits = 'decode_head.conv_seg'
    terms, report = check(dict(student=segformer, teacher=segformer), dict(
        loss_range=dict(type='KLDivergence', student=dict(module='backbone', index=7), teacher=logits),
        loss_tensor=dict(type='KLDivergence', student=dict(module=logits, index=0), teacher=logits),
        loss_size=dict(type='KLDivergence', student=dict(module='backbone.layers.1.0', index=1), teacher=logits),
        loss_list=dict(type='KLDivergence', student='backbone', teacher=logits),
        loss_chain=dict(type='KLDivergence', student='decode_head.convs', teacher=logits),
        loss_text=dict(type='KLDivergence', student=dict(module='backbone', index='1'), teacher=logits),
        loss_pre=dict(type='KLDivergence', student=dict(module='backbone', index=1, record='pre_activation'),
                      teacher=logits)))
    assert report.problem_count == 7
    assert terms['loss_range'].problems == [
        'student tap backbone[7]: index=7 is out of range: the module gives a list of 4: [0] (1, 32, 8, 16), '
        '[1] (1, 64, 4, 8), [2] (1, 160, 2, 4), [3] (1, 256, 1, 2) (index 0 to 3).']
    assert terms['loss_tensor'].problems == [
        'student tap decode_head.conv_seg[0]: index=0 picks an element of a tuple or list, but the module gives '
        '(1, 19, 8, 16); leave index out.']
    assert terms['loss_size'].problems == [
        'student tap backbone.layers.1.0[1]: element index=1 of the module\'s tuple of 2: [0] (1, 32, 64), '
        '[1] (4, 8) is not a tensor.']
    assert 'pick one element with dict(module=..., index=i)' in terms['loss_list'].problems[0]
    assert "does not take the output of 'decode_head.convs.0'" in terms['loss_chain'].problems[0]
    assert terms['loss_text'].problems == ["student tap: tap 'backbone': index must be an int (the element of the "
                                           "tuple or list the module gives), got '1'"]
    assert "index does not go with record='pre_activation'" in terms['loss_pre'].problems[0]


def test_a_stage_tap_trains_the_stage_and_survives_the_runner_replacing_its_modules(segformer):
    student = copy.deepcopy(segformer).train()
    tap = parse_tap('backbone.layers.1')
    recorder = TapRecorder(student, [tap], 'student')
    image = torch.randn(2, 3, *INPUT)
    with recorder.recording():
        student.extract_feat(image)
    recorder.get(tap).square().mean().backward()
    assert student.backbone.layers[1][2].weight.grad.abs().sum() > 0  # the stage's norm is in the graph
    student.backbone.layers[1][2] = nn.LayerNorm(64)  # mmengine replaces modules after the build
    student.eval()
    with torch.no_grad(), recorder.recording():
        outputs = student.backbone(image)
    assert torch.equal(recorder.get(tap), outputs[1])
