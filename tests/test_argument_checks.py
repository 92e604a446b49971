"""Every argument of every loss, connector, layer, schedule and tap is checked when the distiller is built.

The table :data:`CASES` holds one bad value (at least) of every argument we ship; all entries are checked together
by ``build_distillation`` on the demo PSPNet-R18 (the check the distiller runs when it is built), and each entry must
be refused with exactly one problem that names the entry, the argument and what is allowed. Each class's valid
entry (:data:`VALID`) passes the same check, so a refusal is the bad argument's doing.
:func:`test_every_argument_of_every_class_has_a_case` keeps the table complete when arguments are added.
"""
import inspect
import math
import re
import tempfile
from collections import namedtuple

import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

from conftest import REPO, STUDENT_CFG, build_model
from mmseg_kd.distillers.distill_term import DistillConfigError, registered_distill_losses
from mmseg_kd.distillers.distillation_build import build_distillation
from mmseg_kd.distillers.taps import Tap
from mmseg_kd.layers import (
    ChannelSpatialAttention,
    ClassEmbeddingQueue,
    Connector,
    ConvBNConnector,
    ConvConnector,
    LogitDiscriminator,
    ResizeConnector,
)
from mmseg_kd.layers.logit_discriminator import SelfAttention2d
from mmseg_kd.losses import DistillLoss, save_token_file
from mmseg_kd.registry import WEIGHT_SCHEDULES
from mmseg_kd.utils import argument_checks

LOGITS = 'decode_head.conv_seg'            # (1, 19, 8, 8) for the 64x64 dry run
FEATURES = 'decode_head.bottleneck'        # (1, 128, 8, 8)
FEATURE_NORM = 'decode_head.bottleneck.bn'

LOGIT_TAPS = dict(student=LOGITS, teacher=LOGITS)
FEATURE_TAPS = dict(student=FEATURES, teacher=FEATURES)
SMALL_MEMORY = dict(num_classes=19, pixel_memory_size=8, region_memory_size=4, pixel_contrast_size=50,
                    region_contrast_size=19, norm_cfg=dict(type='BN'))

#: MasKD's tokens for the demo's 19 classes (8 x 19), as tools/learn_receptive_tokens.py writes them.
MASKD_TOKENS = f'{tempfile.mkdtemp(prefix="maskd-tokens-")}/tokens.pth'
save_token_file(torch.zeros(8, 19), MASKD_TOKENS)

#: A valid entry of every loss: the cases change one argument of these.
VALID = {
    'AttentionGuidedFeatureDistillation': dict(FEATURE_TAPS),
    'AttentionTransfer': dict(FEATURE_TAPS),
    'ChannelGroupDivergence': dict(LOGIT_TAPS, group_size=5),
    'ChannelWiseDivergence': dict(LOGIT_TAPS, tau=4.0, loss_weight=3.0),
    'FeatureMSE': dict(FEATURE_TAPS, connector=dict(type='ConvConnector')),
    'HolisticAdversarialDistillation': dict(LOGIT_TAPS, norm_cfg=dict(type='BN')),
    'InterClassSimilarityDistillation': dict(LOGIT_TAPS),
    'InterIntraClassCorrelation': dict(LOGIT_TAPS),
    'IntraClassFeatureVariation': dict(FEATURE_TAPS),
    'KLDivergence': dict(LOGIT_TAPS, ignore_index=255),
    'MaskedFeatureGeneration': dict(FEATURE_TAPS),
    'OmniContrastiveDistillation': dict(FEATURE_TAPS, pool_size=1),  # 8x8 maps: no pooling before the 4x4 patches
    'MemoryPixelRegionContrast': dict(FEATURE_TAPS, **SMALL_MEMORY),
    'MiniBatchPixelRelation': dict(FEATURE_TAPS),
    'OverhaulFeatureDistillation': dict(student=FEATURE_NORM, teacher=FEATURE_NORM,
                                        connector=dict(type='ConvBNConnector')),
    'PairwiseSimilarityDistillation': dict(FEATURE_TAPS, pool_kernel=2),
    'ReceptiveTokenMaskedDistillation': dict(LOGIT_TAPS, num_classes=19, tokens=MASKD_TOKENS),
}

Case = namedtuple('Case', 'owner argument loss changes expected')


def case(owner, argument, loss, changes, expected):
    """One bad value: ``changes`` applied to ``VALID[loss]`` must give the problem ``expected``.

    ``owner`` is the class built with the bad ``argument`` (a loss, its schedule or connector, or ``Tap``); the case
    covers that argument of the owner and of the base classes that declare it.
    """
    return Case(owner, argument, loss, changes, expected)


def refused(loss, message):
    """The problem of a loss whose constructor refuses an argument."""
    return f'{loss}(...) cannot be built: {message}'


def own_refusal(loss, message):
    """The problem of a loss whose constructor refuses an argument, with the message prefixed by the loss's name."""
    return refused(loss, f'{loss}: {message}')


MGD, AFDCD = 'MaskedFeatureGeneration', 'OmniContrastiveDistillation'
UNKNOWN_SCHEDULE = ("unknown weight_schedule type 'Nope'; registered: ConstantWeight, LinearWarmupDecay, "
                    'RemainingTraining, TrainingProgress')


def schedule(**schedule_cfg):
    return dict(weight_schedule=schedule_cfg)


CASES = [
    # DistillLoss (every loss): the weight and its schedule
    case('ChannelWiseDivergence', 'loss_weight', 'ChannelWiseDivergence', dict(loss_weight=-3),
         refused('ChannelWiseDivergence', 'ChannelWiseDivergence: loss_weight must be a number >= 0, got -3')),
    case('KLDivergence', 'loss_weight', 'KLDivergence', dict(loss_weight=float('nan')),
         refused('KLDivergence', 'KLDivergence: loss_weight must be a number >= 0, got nan')),
    case('FeatureMSE', 'loss_weight', 'FeatureMSE', dict(loss_weight='10'),
         refused('FeatureMSE', "FeatureMSE: loss_weight must be a number >= 0, got '10'")),
    case('KLDivergence', 'weight_schedule', 'KLDivergence', dict(weight_schedule='LinearWarmupDecay'),
         refused('KLDivergence', "weight_schedule must be None or a dict such as dict(type='LinearWarmupDecay', "
                                 "...), got 'LinearWarmupDecay'")),
    case('KLDivergence', 'weight_schedule', 'KLDivergence', dict(weight_schedule=dict(type='Linear')),
         refused('KLDivergence', "unknown weight_schedule type 'Linear'; registered: ConstantWeight, ")),
    # schedules
    case('LinearWarmupDecay', 'warmup_iters', 'KLDivergence',
         schedule(type='LinearWarmupDecay', warmup_iters=2.5),
         refused('KLDivergence', 'LinearWarmupDecay: warmup_iters must be an integer >= 0, got 2.5')),
    case('LinearWarmupDecay', 'warmup_iters', 'KLDivergence',
         schedule(type='LinearWarmupDecay', warmup_iters=-1),
         refused('KLDivergence', 'LinearWarmupDecay: warmup_iters must be an integer >= 0, got -1')),
    case('LinearWarmupDecay', 'decay_start_iter', 'KLDivergence',
         schedule(type='LinearWarmupDecay', decay_start_iter='100', decay_end_iter=200),
         refused('KLDivergence', "LinearWarmupDecay: decay_start_iter must be None or an integer >= 0, got '100'")),
    case('LinearWarmupDecay', 'decay_end_iter', 'KLDivergence',
         schedule(type='LinearWarmupDecay', decay_start_iter=100, decay_end_iter=2e3),
         refused('KLDivergence', 'LinearWarmupDecay: decay_end_iter must be None or an integer >= 1, got 2000.0')),
    case('TrainingProgress', 'max_iters', 'InterClassSimilarityDistillation',
         schedule(type='TrainingProgress', max_iters=0),
         refused('InterClassSimilarityDistillation', 'TrainingProgress: max_iters must be None or an integer >= 1, '
                                                     'got 0')),
    case('RemainingTraining', 'num_steps', 'KLDivergence',
         schedule(type='RemainingTraining', num_steps=1.5),
         refused('KLDivergence', 'RemainingTraining: num_steps must be None or an integer >= 1, got 1.5')),
    # taps
    case('Tap', 'module', 'KLDivergence', dict(student=''),
         "student tap: a tap is a non-empty module path string or dict(module='path', "),
    case('Tap', 'module', 'KLDivergence', dict(teacher=dict(module=3)),
         "teacher tap: a tap is a non-empty module path string or dict(module='path', "),
    case('Tap', 'record', 'KLDivergence', dict(teacher=dict(module=LOGITS, record='grad')),
         "teacher tap: tap 'decode_head.conv_seg': record must be one of ('output', 'input', 'pre_activation'), "
         "got 'grad'"),
    case('Tap', 'index', 'KLDivergence', dict(teacher=dict(module=LOGITS, index='0')),
         "teacher tap: tap 'decode_head.conv_seg': index must be an int (the element of the tuple or list the module "
         "gives), got '0'"),
    # connectors (built by the check, with the measured channels)
    case('ConvConnector', 'in_channels', 'FeatureMSE', dict(connector=dict(type='ConvConnector', in_channels=0)),
         'ConvConnector: in_channels must be an integer >= 1, got 0'),
    case('ConvConnector', 'out_channels', 'FeatureMSE', dict(connector=dict(type='ConvConnector', out_channels=12.0)),
         'ConvConnector: out_channels must be an integer >= 1, got 12.0'),
    case('ConvConnector', 'resize_to_teacher', 'FeatureMSE',
         dict(connector=dict(type='ConvConnector', resize_to_teacher=1)),
         'ConvConnector: resize_to_teacher must be True or False, got 1'),
    case('ConvConnector', 'align_corners', 'FeatureMSE', dict(connector=dict(type='ConvConnector', align_corners='no')),
         "ConvConnector: align_corners must be True or False, got 'no'"),
    case('ConvConnector', 'crop_to_teacher', 'FeatureMSE', dict(connector=dict(type='ConvConnector',
                                                                                crop_to_teacher='yes')),
         "ConvConnector: crop_to_teacher must be True or False, got 'yes'"),
    case('ConvConnector', 'crop_to_teacher', 'FeatureMSE',
         dict(connector=dict(type='ConvConnector', crop_to_teacher=True, resize_to_teacher=True)),
         'ConvConnector: give resize_to_teacher=True or crop_to_teacher=True, not both'),
    case('ResizeConnector', 'align_corners', 'AttentionTransfer',
         dict(connector=dict(type='ResizeConnector', align_corners=None)),
         'ResizeConnector: align_corners must be True or False, got None'),
    case('ResizeConnector', 'in_channels', 'AttentionTransfer', dict(connector=dict(type='ResizeConnector',
                                                                                    in_channels=-1)),
         'ResizeConnector: in_channels must be an integer >= 1, got -1'),
    case('ResizeConnector', 'out_channels', 'AttentionTransfer', dict(connector=dict(type='ResizeConnector',
                                                                                     out_channels=True)),
         'ResizeConnector: out_channels must be an integer >= 1, got True'),
    case('ConvBNConnector', 'in_channels', 'OverhaulFeatureDistillation',
         dict(connector=dict(type='ConvBNConnector', in_channels='128')),
         "ConvBNConnector: in_channels must be an integer >= 1, got '128'"),
    case('ConvBNConnector', 'out_channels', 'OverhaulFeatureDistillation',
         dict(connector=dict(type='ConvBNConnector', out_channels=None)),
         'ConvBNConnector: out_channels must be an integer >= 1, got None'),
    case('ConvBNConnector', 'norm_cfg', 'OverhaulFeatureDistillation',
         dict(connector=dict(type='ConvBNConnector', norm_cfg=dict(type='Conv2d'))),
         "ConvBNConnector: norm_cfg must be a norm layer config such as dict(type='BN') or dict(type='SyncBN'), "
         "got {'type': 'Conv2d'}: its type is not a registered norm layer"),
    # AttentionGuidedFeatureDistillation
    case('AttentionGuidedFeatureDistillation', 'teacher_refinement', 'AttentionGuidedFeatureDistillation',
         dict(teacher_refinement='random'),
         refused('AttentionGuidedFeatureDistillation', "AttentionGuidedFeatureDistillation: teacher_refinement must be "
               "one of ('parameter_free', 'frozen_random', 'pretrained'), got 'random'")),
    case('AttentionGuidedFeatureDistillation', 'teacher_refinement_seed', 'AttentionGuidedFeatureDistillation',
         dict(teacher_refinement='frozen_random', teacher_refinement_seed=-1),
         refused('AttentionGuidedFeatureDistillation', 'AttentionGuidedFeatureDistillation: teacher_refinement_seed '
                                                       'must be an integer >= 0, got -1')),
    case('AttentionGuidedFeatureDistillation', 'teacher_refinement_checkpoint', 'AttentionGuidedFeatureDistillation',
         dict(teacher_refinement='pretrained', teacher_refinement_checkpoint=''),
         refused('AttentionGuidedFeatureDistillation', 'AttentionGuidedFeatureDistillation: '
                                                       "teacher_refinement_checkpoint must be None or a non-empty "
                                                       "string, got ''")),
    case('AttentionGuidedFeatureDistillation', 'teacher_refinement_checkpoint', 'AttentionGuidedFeatureDistillation',
         dict(teacher_refinement_checkpoint='cbam.pth'),
         refused('AttentionGuidedFeatureDistillation', "AttentionGuidedFeatureDistillation: "
                                                       "teacher_refinement='pretrained' needs "
                                                       'teacher_refinement_checkpoint=<file with the teacher CBAM '
                                                       'weights>, and the checkpoint is only used in that mode')),
    case('AttentionGuidedFeatureDistillation', 'teacher_refinement_prefix', 'AttentionGuidedFeatureDistillation',
         dict(teacher_refinement_prefix=None),
         refused('AttentionGuidedFeatureDistillation', 'AttentionGuidedFeatureDistillation: teacher_refinement_prefix '
                                                       'must be a string, got None')),
    case('AttentionGuidedFeatureDistillation', 'train_student_channel_mlp', 'AttentionGuidedFeatureDistillation',
         dict(train_student_channel_mlp='False'),
         refused('AttentionGuidedFeatureDistillation', 'AttentionGuidedFeatureDistillation: train_student_channel_mlp '
                                                       "must be True or False, got 'False'")),
    case('AttentionGuidedFeatureDistillation', 'reduction_ratio', 'AttentionGuidedFeatureDistillation',
         dict(reduction_ratio=0),
         refused('AttentionGuidedFeatureDistillation', 'AttentionGuidedFeatureDistillation: reduction_ratio must be '
                                                       'an integer >= 1, got 0')),
    case('AttentionGuidedFeatureDistillation', 'batch_average', 'AttentionGuidedFeatureDistillation',
         dict(batch_average=1),
         refused('AttentionGuidedFeatureDistillation', 'AttentionGuidedFeatureDistillation: batch_average must be True '
                                                       'or False, got 1')),
    # AttentionTransfer
    case('AttentionTransfer', 'normalize', 'AttentionTransfer', dict(normalize='channel'),
         refused('AttentionTransfer', "AttentionTransfer: normalize must be one of ('image', 'column'), "
                                      "got 'channel'")),
    # ChannelGroupDivergence
    case('ChannelGroupDivergence', 'tau', 'ChannelGroupDivergence', dict(tau=-2.0),
         refused('ChannelGroupDivergence', 'ChannelGroupDivergence: tau must be a number > 0, got -2.0')),
    case('ChannelGroupDivergence', 'group_size', 'ChannelGroupDivergence', dict(group_size=0),
         refused('ChannelGroupDivergence', 'ChannelGroupDivergence: group_size must be an integer >= 1, got 0')),
    case('ChannelGroupDivergence', 'group_size', 'ChannelGroupDivergence', dict(group_size=2.5),
         refused('ChannelGroupDivergence', 'ChannelGroupDivergence: group_size must be an integer >= 1, got 2.5')),
    case('ChannelGroupDivergence', 'shuffle_seed', 'ChannelGroupDivergence', dict(shuffle_seed=-1),
         refused('ChannelGroupDivergence', 'ChannelGroupDivergence: shuffle_seed must be None or an integer >= 0, '
                                           'got -1')),
    # ChannelWiseDivergence
    case('ChannelWiseDivergence', 'tau', 'ChannelWiseDivergence', dict(tau=0),
         refused('ChannelWiseDivergence', 'ChannelWiseDivergence: tau must be a number > 0, got 0')),
    case('ChannelWiseDivergence', 'tau', 'ChannelWiseDivergence', dict(tau=float('inf')),
         refused('ChannelWiseDivergence', 'ChannelWiseDivergence: tau must be a number > 0, got inf')),
    # HolisticAdversarialDistillation
    case('HolisticAdversarialDistillation', 'discriminator_loss_weight', 'HolisticAdversarialDistillation',
         dict(discriminator_loss_weight=0),
         refused('HolisticAdversarialDistillation', 'HolisticAdversarialDistillation: discriminator_loss_weight must '
                                                    'be a number > 0, got 0')),
    case('HolisticAdversarialDistillation', 'discriminator_optimizer', 'HolisticAdversarialDistillation',
         dict(discriminator_optimizer=dict(type='Adam', lr=-4e-4)),
         refused('HolisticAdversarialDistillation', "HolisticAdversarialDistillation: discriminator_optimizer "
                                                    "{'type': 'Adam', 'lr': -0.0004} cannot be built: Invalid learning "
                                                    'rate: -0.0004')),
    case('HolisticAdversarialDistillation', 'discriminator_optimizer', 'HolisticAdversarialDistillation',
         dict(discriminator_optimizer='Adam'),
         refused('HolisticAdversarialDistillation', "HolisticAdversarialDistillation: discriminator_optimizer must be "
                                                    "an optimizer config such as dict(type='Adam', lr=4e-4), got "
                                                    "'Adam'")),
    case('HolisticAdversarialDistillation', 'discriminator_base_channels', 'HolisticAdversarialDistillation',
         dict(discriminator_base_channels=1),
         refused('HolisticAdversarialDistillation', 'HolisticAdversarialDistillation: discriminator_base_channels must '
                                                    'be an integer >= 2, got 1')),
    case('HolisticAdversarialDistillation', 'norm_cfg', 'HolisticAdversarialDistillation',
         dict(norm_cfg=dict(type='BatchNorm')),
         refused('HolisticAdversarialDistillation', "HolisticAdversarialDistillation: norm_cfg must be a norm layer "
                                                    "config such as dict(type='BN')")),
    case('HolisticAdversarialDistillation', 'num_classes', 'HolisticAdversarialDistillation', dict(num_classes=0),
         refused('HolisticAdversarialDistillation', 'HolisticAdversarialDistillation: num_classes must be None or an '
                                                    'integer >= 1, got 0')),
    # InterClassSimilarityDistillation
    case('InterClassSimilarityDistillation', 'tau', 'InterClassSimilarityDistillation', dict(tau=0.0),
         refused('InterClassSimilarityDistillation', 'InterClassSimilarityDistillation: tau must be a number > 0, got '
                                                     '0.0')),
    case('InterClassSimilarityDistillation', 'symmetric', 'InterClassSimilarityDistillation', dict(symmetric=0),
         refused('InterClassSimilarityDistillation', 'InterClassSimilarityDistillation: symmetric must be True or '
                                                     'False, got 0')),
    case('InterClassSimilarityDistillation', 'batch_average', 'InterClassSimilarityDistillation',
         dict(batch_average='yes'),
         refused('InterClassSimilarityDistillation', 'InterClassSimilarityDistillation: batch_average must be True or '
                                                     "False, got 'yes'")),
    case('InterClassSimilarityDistillation', 'reference_code', 'InterClassSimilarityDistillation',
         dict(reference_code=None),
         refused('InterClassSimilarityDistillation', 'InterClassSimilarityDistillation: reference_code must be True or '
                                                     'False, got None')),
    case('InterClassSimilarityDistillation', 'reference_code', 'InterClassSimilarityDistillation',
         dict(reference_code=True, symmetric=False),
         refused('InterClassSimilarityDistillation', 'InterClassSimilarityDistillation: symmetric=False has no effect '
                                                     'with reference_code=True')),
    # InterIntraClassCorrelation
    case('InterIntraClassCorrelation', 'tau', 'InterIntraClassCorrelation', dict(tau=0),
         refused('InterIntraClassCorrelation', 'InterIntraClassCorrelation: tau must be a number > 0, got 0')),
    case('InterIntraClassCorrelation', 'beta', 'InterIntraClassCorrelation', dict(beta=-1.0),
         refused('InterIntraClassCorrelation', 'InterIntraClassCorrelation: beta must be a number >= 0, got -1.0')),
    case('InterIntraClassCorrelation', 'gamma', 'InterIntraClassCorrelation', dict(gamma=[1.0]),
         refused('InterIntraClassCorrelation', 'InterIntraClassCorrelation: gamma must be a number >= 0, got [1.0]')),
    case('InterIntraClassCorrelation', 'gamma', 'InterIntraClassCorrelation', dict(beta=0, gamma=0),
         refused('InterIntraClassCorrelation', 'InterIntraClassCorrelation: beta and gamma are both 0')),
    case('InterIntraClassCorrelation', 'eps', 'InterIntraClassCorrelation', dict(eps=0),
         refused('InterIntraClassCorrelation', 'InterIntraClassCorrelation: eps must be a number > 0, got 0')),
    # IntraClassFeatureVariation
    case('IntraClassFeatureVariation', 'ignore_index', 'IntraClassFeatureVariation', dict(ignore_index=255.0),
         refused('IntraClassFeatureVariation', 'IntraClassFeatureVariation: ignore_index must be an integer, got '
                                               '255.0')),
    case('IntraClassFeatureVariation', 'ignored_pixels_in_mean', 'IntraClassFeatureVariation',
         dict(ignored_pixels_in_mean='True'),
         refused('IntraClassFeatureVariation', 'IntraClassFeatureVariation: ignored_pixels_in_mean must be True or '
                                               "False, got 'True'")),
    # KLDivergence
    case('KLDivergence', 'tau', 'KLDivergence', dict(tau=0),
         refused('KLDivergence', 'KLDivergence: tau must be a number > 0, got 0')),
    case('KLDivergence', 'ignore_index', 'KLDivergence', dict(ignore_index='255'),
         refused('KLDivergence', "KLDivergence: ignore_index must be None or an integer, got '255'")),
    # MemoryPixelRegionContrast
    case('MemoryPixelRegionContrast', 'num_classes', 'MemoryPixelRegionContrast', dict(num_classes=0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: num_classes must be an integer >= 1, got 0')),
    case('MemoryPixelRegionContrast', 'ignore_index', 'MemoryPixelRegionContrast', dict(ignore_index=0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: ignore_index must not be one of the classes '
                                              '0..18, got 0')),
    case('MemoryPixelRegionContrast', 'ignore_index', 'MemoryPixelRegionContrast', dict(ignore_index=None),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: ignore_index must be an integer, got None')),
    case('MemoryPixelRegionContrast', 'pixel_memory_size', 'MemoryPixelRegionContrast', dict(pixel_memory_size=0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: pixel_memory_size must be an integer >= 1, '
                                              'got 0')),
    case('MemoryPixelRegionContrast', 'region_memory_size', 'MemoryPixelRegionContrast',
         dict(region_memory_size=4.0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: region_memory_size must be an integer >= 1, '
                                              'got 4.0')),
    case('MemoryPixelRegionContrast', 'pixel_contrast_size', 'MemoryPixelRegionContrast',
         dict(pixel_contrast_size=0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: pixel_contrast_size must be an integer >= 1, '
                                              'got 0')),
    case('MemoryPixelRegionContrast', 'pixel_contrast_size', 'MemoryPixelRegionContrast',
         dict(pixel_contrast_size=200),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: pixel_contrast_size // num_classes + 1 = '
                                              '11 slots per class exceed pixel_memory_size = 8')),
    case('MemoryPixelRegionContrast', 'region_contrast_size', 'MemoryPixelRegionContrast',
         dict(region_contrast_size=-1),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: region_contrast_size must be an integer >= '
                                              '1, got -1')),
    case('MemoryPixelRegionContrast', 'pixels_per_class_per_image', 'MemoryPixelRegionContrast',
         dict(pixels_per_class_per_image=0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: pixels_per_class_per_image must be an '
                                              'integer >= 1, got 0')),
    case('MemoryPixelRegionContrast', 'pixel_enqueue', 'MemoryPixelRegionContrast', dict(pixel_enqueue='paper'),
         refused('MemoryPixelRegionContrast', "MemoryPixelRegionContrast: pixel_enqueue must be one of "
                                              "('class_pixels', 'raster_prefix'), got 'paper'")),
    case('MemoryPixelRegionContrast', 'tau', 'MemoryPixelRegionContrast', dict(tau=0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: tau must be a number > 0, got 0')),
    case('MemoryPixelRegionContrast', 'kd_tau', 'MemoryPixelRegionContrast', dict(kd_tau=-1),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: kd_tau must be a number > 0, got -1')),
    case('MemoryPixelRegionContrast', 'pixel_weight', 'MemoryPixelRegionContrast', dict(pixel_weight=-0.1),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: pixel_weight must be a number >= 0, got '
                                              '-0.1')),
    case('MemoryPixelRegionContrast', 'region_weight', 'MemoryPixelRegionContrast', dict(region_weight=math.nan),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: region_weight must be a number >= 0, got '
                                              'nan')),
    case('MemoryPixelRegionContrast', 'norm_cfg', 'MemoryPixelRegionContrast', dict(norm_cfg='BN'),
         refused('MemoryPixelRegionContrast', "MemoryPixelRegionContrast: norm_cfg must be None or a dict with a "
                                              "'type' key, got 'BN'")),
    case('MemoryPixelRegionContrast', 'norm_cfg', 'MemoryPixelRegionContrast',
         dict(norm_cfg=dict(type='BN', momentun=0.1)),  # found when the projection is built, in the dry run
         "MemoryPixelRegionContrast: norm_cfg {'type': 'BN', 'momentun': 0.1} cannot be built: "
         "_BatchNorm.__init__() got an unexpected keyword argument 'momentun'"),
    case('MemoryPixelRegionContrast', 'student_channels', 'MemoryPixelRegionContrast',
         dict(student_channels=0, teacher_channels=128),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: student_channels must be None or an integer '
                                              '>= 1, got 0')),
    case('MemoryPixelRegionContrast', 'teacher_channels', 'MemoryPixelRegionContrast',
         dict(student_channels=128, teacher_channels=128.0),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: teacher_channels must be None or an integer '
                                              '>= 1, got 128.0')),
    case('MemoryPixelRegionContrast', 'seed', 'MemoryPixelRegionContrast', dict(seed=-5),
         refused('MemoryPixelRegionContrast', 'MemoryPixelRegionContrast: seed must be an integer >= 0, got -5')),
    # MiniBatchPixelRelation
    case('MiniBatchPixelRelation', 'tau', 'MiniBatchPixelRelation', dict(tau=-0.1),
         refused('MiniBatchPixelRelation', 'MiniBatchPixelRelation: tau must be a number > 0, got -0.1')),
    case('MiniBatchPixelRelation', 'pool_size', 'MiniBatchPixelRelation', dict(pool_size=0),
         refused('MiniBatchPixelRelation', 'MiniBatchPixelRelation: pool_size must be None or an integer >= 1, got 0')),
    case('MiniBatchPixelRelation', 'gather_across_gpus', 'MiniBatchPixelRelation', dict(gather_across_gpus=1),
         refused('MiniBatchPixelRelation', 'MiniBatchPixelRelation: gather_across_gpus must be True or False, got 1')),
    # OverhaulFeatureDistillation
    case('OverhaulFeatureDistillation', 'divisor', 'OverhaulFeatureDistillation', dict(divisor=0),
         refused('OverhaulFeatureDistillation', 'OverhaulFeatureDistillation: divisor must be a number > 0, got 0')),
    case('OverhaulFeatureDistillation', 'teacher_norm', 'OverhaulFeatureDistillation', dict(teacher_norm=''),
         refused('OverhaulFeatureDistillation', 'OverhaulFeatureDistillation: teacher_norm must be None or a '
                                                "non-empty string, got ''")),
    # PairwiseSimilarityDistillation
    case('PairwiseSimilarityDistillation', 'pool_kernel', 'PairwiseSimilarityDistillation', dict(pool_kernel=(2, 0)),
         refused('PairwiseSimilarityDistillation', 'PairwiseSimilarityDistillation: pool_kernel must be an '
                                                   'integer >= 1, got 0')),
    case('PairwiseSimilarityDistillation', 'pool_kernel', 'PairwiseSimilarityDistillation',
         dict(pool_kernel=(2, 2, 2)),
         refused('PairwiseSimilarityDistillation', 'PairwiseSimilarityDistillation: pool_kernel must be an '
                                                   'integer >= 1 or a pair (k_h, k_w) of them, got (2, 2, 2)')),
    case('PairwiseSimilarityDistillation', 'pool_scale', 'PairwiseSimilarityDistillation',
         dict(pool_kernel=None, pool_scale=1.5),
         refused('PairwiseSimilarityDistillation', 'PairwiseSimilarityDistillation: pool_scale must be None or a '
                                                   'number in (0, 1], got 1.5')),
    case('PairwiseSimilarityDistillation', 'detach_norm', 'PairwiseSimilarityDistillation', dict(detach_norm='on'),
         refused('PairwiseSimilarityDistillation', "PairwiseSimilarityDistillation: detach_norm must be True or False, "
                                                   "got 'on'")),
    # MaskedFeatureGeneration (MGD) and OmniContrastiveDistillation (Af-DCD), whose constructors list the base's
    # arguments too
    case(MGD, 'student_channels', MGD, dict(student_channels=0),
         own_refusal(MGD, 'student_channels must be None or an integer >= 1, got 0')),
    case(MGD, 'teacher_channels', MGD, dict(teacher_channels=2.5),
         own_refusal(MGD, 'teacher_channels must be None or an integer >= 1, got 2.5')),
    case(MGD, 'mask_ratio', MGD, dict(mask_ratio=1.5),
         own_refusal(MGD, 'mask_ratio must be a number in [0, 1], got 1.5')),
    case(MGD, 'mask_type', MGD, dict(mask_type='corner'),
         own_refusal(MGD, "mask_type must be one of ('random', 'center'), got 'corner'")),
    case(MGD, 'projector', MGD, dict(projector='deep'),
         own_refusal(MGD, "projector must be one of ('plain', 'enhanced'), got 'deep'")),
    case(MGD, 'seed', MGD, dict(seed=-1),
         own_refusal(MGD, 'seed must be None or an integer >= 0, got -1')),
    case(MGD, 'max_grad_norm', MGD, dict(max_grad_norm=0),
         own_refusal(MGD, 'max_grad_norm must be None or a number > 0, got 0')),
    case(MGD, 'loss_weight', MGD, dict(loss_weight=-1.0),
         own_refusal(MGD, 'loss_weight must be a number >= 0, got -1.0')),
    case(AFDCD, 'teacher_channels', AFDCD, dict(teacher_channels=100),
         own_refusal(AFDCD, "the teacher tap's 100 channels are not divisible by num_groups=16; tap a layer whose "
                            'width is a multiple of it or change num_groups')),
    case(AFDCD, 'student_channels', AFDCD, dict(student_channels=-4),
         own_refusal(AFDCD, 'student_channels must be None or an integer >= 1, got -4')),
    case(AFDCD, 'mask_type', AFDCD, dict(mask_type='edge'),
         own_refusal(AFDCD, "mask_type must be one of ('random', 'center'), got 'edge'")),
    case(AFDCD, 'projector', AFDCD, dict(projector='x'),
         own_refusal(AFDCD, "projector must be one of ('plain', 'enhanced'), got 'x'")),
    case(AFDCD, 'tau', AFDCD, dict(tau=0),
         own_refusal(AFDCD, 'tau must be a number > 0, got 0')),
    case(AFDCD, 'num_groups', AFDCD, dict(num_groups=0),
         own_refusal(AFDCD, 'num_groups must be an integer >= 1, got 0')),
    case(AFDCD, 'pool_size', AFDCD, dict(pool_size=0),
         own_refusal(AFDCD, 'pool_size must be an integer >= 1, got 0')),
    case(AFDCD, 'patch_size', AFDCD, dict(patch_size=1.5),
         own_refusal(AFDCD, 'patch_size must be an integer >= 1, got 1.5')),
    case(AFDCD, 'generation_weight', AFDCD, dict(generation_weight=-1),
         own_refusal(AFDCD, 'generation_weight must be a number >= 0, got -1')),
    case(AFDCD, 'contrast_weight', AFDCD, dict(contrast_weight='high'),
         own_refusal(AFDCD, "contrast_weight must be a number >= 0, got 'high'")),
    case(AFDCD, 'mask_ratio', AFDCD, dict(mask_ratio=-0.1),
         own_refusal(AFDCD, 'mask_ratio must be a number in [0, 1], got -0.1')),
    case(AFDCD, 'seed', AFDCD, dict(seed=1.5),
         own_refusal(AFDCD, 'seed must be None or an integer >= 0, got 1.5')),
    case(AFDCD, 'max_grad_norm', AFDCD, dict(max_grad_norm=-15),
         own_refusal(AFDCD, 'max_grad_norm must be None or a number > 0, got -15')),
    case(AFDCD, 'loss_weight', AFDCD, dict(loss_weight=-2),
         own_refusal(AFDCD, 'loss_weight must be a number >= 0, got -2')),
    case(MGD, 'weight_schedule', MGD, schedule(type='Nope'), refused(MGD, UNKNOWN_SCHEDULE)),
    case(AFDCD, 'weight_schedule', AFDCD, schedule(type='Nope'), refused(AFDCD, UNKNOWN_SCHEDULE)),
    # ReceptiveTokenMaskedDistillation
    case('ReceptiveTokenMaskedDistillation', 'num_classes', 'ReceptiveTokenMaskedDistillation', dict(num_classes=0),
         refused('ReceptiveTokenMaskedDistillation', 'ReceptiveTokenMaskedDistillation: num_classes must be an '
                                                     'integer >= 1, got 0')),
    case('ReceptiveTokenMaskedDistillation', 'num_classes', 'ReceptiveTokenMaskedDistillation', dict(num_classes=21),
         refused('ReceptiveTokenMaskedDistillation', 'ReceptiveTokenMaskedDistillation: the token file '
                                                     f"'{MASKD_TOKENS}' holds tokens of shape (8, 19), but the loss is "
                                                     'configured for num_tokens=8, num_classes=21')),
    case('ReceptiveTokenMaskedDistillation', 'num_tokens', 'ReceptiveTokenMaskedDistillation', dict(num_tokens=8.0),
         refused('ReceptiveTokenMaskedDistillation', 'ReceptiveTokenMaskedDistillation: num_tokens must be an '
                                                     'integer >= 1, got 8.0')),
    case('ReceptiveTokenMaskedDistillation', 'tokens', 'ReceptiveTokenMaskedDistillation',
         dict(tokens='checkpoints/absent-tokens.pth'),
         refused('ReceptiveTokenMaskedDistillation', "ReceptiveTokenMaskedDistillation: the token file "
                                                     "'checkpoints/absent-tokens.pth' does not exist. "
                                                     'Learn the tokens on the frozen teacher with '
                                                     '`python tools/learn_receptive_tokens.py CONFIG`')),
]

#: Building blocks that no config builds directly (the losses build them from their own, checked, arguments).
LAYER_CASES = [
    (ChannelSpatialAttention, dict(channels=0), 'ChannelSpatialAttention: channels must be an integer >= 1, got 0'),
    (ChannelSpatialAttention, dict(channels=64, reduction_ratio=0),
     'ChannelSpatialAttention: reduction_ratio must be an integer >= 1, got 0'),
    (ClassEmbeddingQueue, dict(num_classes=0, size=4, channels=2),
     'ClassEmbeddingQueue: num_classes must be an integer >= 1, got 0'),
    (ClassEmbeddingQueue, dict(num_classes=3, size=4.0, channels=2),
     'ClassEmbeddingQueue: size must be an integer >= 1, got 4.0'),
    (ClassEmbeddingQueue, dict(num_classes=3, size=4, channels=-2),
     'ClassEmbeddingQueue: channels must be an integer >= 1, got -2'),
    (ClassEmbeddingQueue, dict(num_classes=3, size=4, channels=2, seed=-1),
     'ClassEmbeddingQueue: seed must be an integer >= 0, got -1'),
    (LogitDiscriminator, dict(in_channels=0), 'LogitDiscriminator: in_channels must be an integer >= 1, got 0'),
    (LogitDiscriminator, dict(in_channels=19, base_channels=1),
     'LogitDiscriminator: base_channels must be an integer >= 2, got 1'),
    (LogitDiscriminator, dict(in_channels=19, norm_cfg=dict(norm='BN')),
     "LogitDiscriminator: norm_cfg must be None or a dict with a 'type' key, got {'norm': 'BN'}"),
    (SelfAttention2d, dict(channels=4), 'SelfAttention2d: channels must be an integer >= 8, got 4'),
]


def bad_entry(bad: Case) -> dict:
    return dict(VALID[bad.loss], type=bad.loss, **bad.changes)


@pytest.fixture(scope='module')
def networks():
    torch.manual_seed(0)
    return dict(student=build_model(STUDENT_CFG), teacher=build_model(STUDENT_CFG))


@pytest.fixture(scope='module')
def report(networks):
    """One check of every valid entry (``loss_valid<i>``) and every bad one (``loss_case<i>``), as the distiller
    runs it when it is built."""
    entries = {f'loss_valid{i}': dict(VALID[loss], type=loss) for i, loss in enumerate(VALID)}
    entries.update({f'loss_case{i}': bad_entry(bad) for i, bad in enumerate(CASES)})
    checked = build_distillation(networks, entries, (64, 64))
    for recorder in checked.recorders.values():
        recorder.remove()
    return checked.report


def entry_problems(report, name: str) -> list:
    return next(term.problems for term in report.terms if term.name == name)


@pytest.mark.parametrize('index, loss', list(enumerate(VALID)), ids=list(VALID))
def test_every_valid_entry_passes_the_check(report, index, loss):
    problems = entry_problems(report, f'loss_valid{index}')
    if loss == 'HolisticAdversarialDistillation':  # built; only its 1/8 logits of a 64x64 input are too small
        assert len(problems) == 1 and 'at least 64x64' in problems[0], problems
    else:
        assert problems == []


@pytest.mark.parametrize('index, bad', list(enumerate(CASES)),
                         ids=[f'{bad.loss}-{bad.owner}.{bad.argument}-{i}' for i, bad in enumerate(CASES)])
def test_bad_argument_is_refused_at_build_naming_entry_argument_and_range(report, index, bad):
    name = f'loss_case{index}'
    problems = entry_problems(report, name)
    assert len(problems) == 1, problems
    assert bad.expected in problems[0]
    assert f'distill_losses.{name}: {problems[0]}' in str(report.error())


@pytest.mark.parametrize('layer, kwargs, expected', LAYER_CASES,
                         ids=[f'{layer.__name__}-{i}' for i, (layer, _, _) in enumerate(LAYER_CASES)])
def test_building_blocks_refuse_bad_arguments(layer, kwargs, expected):
    with pytest.raises(ValueError) as error:
        layer(**kwargs)
    assert str(error.value) == expected


def own_arguments(cls) -> set:
    """Names of the arguments that ``cls`` declares in its own ``__init__`` (not ``self``, ``*args``, ``**kwargs``;
    none if it inherits its constructor)."""
    if '__init__' not in vars(cls):
        return set()
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in parameters if p.name != 'self' and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def test_every_argument_of_every_class_has_a_case():
    """A new argument (or class) without a bad-value case in the tables fails here."""
    loss_classes = [MODELS.get(name) for name in registered_distill_losses()] + [DistillLoss]
    schedule_classes = list(WEIGHT_SCHEDULES.module_dict.values())
    connector_classes = [Connector, ConvConnector, ConvBNConnector, ResizeConnector]
    layer_classes = [ChannelSpatialAttention, ClassEmbeddingQueue, LogitDiscriminator, SelfAttention2d]
    covered = {(bad.owner, bad.argument) for bad in CASES}
    covered |= {(layer.__name__, argument) for layer, kwargs, _ in LAYER_CASES for argument in kwargs}
    names = {name: cls for name, cls in [*MODELS.module_dict.items(), *WEIGHT_SCHEDULES.module_dict.items()]}
    names.update({cls.__name__: cls for cls in [Tap, SelfAttention2d, *layer_classes]})

    def has_case(cls, argument):
        return any(owner in names and issubclass(names[owner], cls) and arg == argument for owner, arg in covered)

    missing = [f'{cls.__name__}.{argument}'
               for cls in [*loss_classes, *schedule_classes, *connector_classes, *layer_classes, Tap]
               for argument in sorted(own_arguments(cls)) if not has_case(cls, argument)]
    assert not missing, f'arguments without a bad-value case: {missing}'


def test_the_distiller_build_lists_every_bad_argument_with_its_entry(r18_checkpoint):
    """tau=0 used to train until a NaN stop at the first iteration, loss_weight=-3 trained a negative loss."""
    cfg = dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG)),
               teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=r18_checkpoint),
               distill_losses=dict(
                   loss_cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=-3, **LOGIT_TAPS),
                   loss_kd=dict(type='KLDivergence', tau=0, **LOGIT_TAPS)),
               tap_check_input_size=(64, 0))
    with pytest.raises(DistillConfigError) as error:
        MODELS.build(cfg)
    message = str(error.value)
    assert message.startswith('3 problem(s) in the distillation config:')
    assert ('distill_losses.loss_cwd: ChannelWiseDivergence(...) cannot be built: ChannelWiseDivergence: '
            'loss_weight must be a number >= 0, got -3') in message
    assert ('distill_losses.loss_kd: KLDivergence(...) cannot be built: KLDivergence: tau must be a number > 0, '
            'got 0') in message
    assert 'tap_check_input_size must be a pair (H, W) of integers >= 1, got (64, 0)' in message


@pytest.mark.parametrize('schedule_cfg, expected', [
    (dict(type='TrainingProgress', num_steps=0), 'TrainingProgress: num_steps must be None or an integer >= 1, got 0'),
    ('TrainingProgress', "student.loss_weight_schedule must be None or a dict such as dict(type='LinearWarmupDecay', "
                         "...), got 'TrainingProgress'"),
])
def test_the_students_loss_weight_schedule_is_checked(r18_checkpoint, schedule_cfg, expected):
    cfg = dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG), loss_weight_schedule=schedule_cfg),
               teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=r18_checkpoint),
               distill_losses=dict(loss_kd=dict(type='KLDivergence', **LOGIT_TAPS)))
    with pytest.raises(ValueError) as error:
        MODELS.build(cfg)
    assert str(error.value) == expected


@pytest.mark.parametrize('size', [(64,), (64.0, 64), 64, (0, 64), (True, 64)])
def test_dry_run_size_must_be_two_positive_integers(networks, size):
    checked = build_distillation(networks, dict(loss_kd=dict(type='KLDivergence', **LOGIT_TAPS)), size)
    for recorder in checked.recorders.values():
        recorder.remove()
    assert checked.report.problems == [
        f'tap_check_input_size must be a pair (H, W) of integers >= 1, got {size!r} (the other checks ran on a '
        '64x64 input)']
    assert checked.report.terms[0].ok and checked.report.terms[0].shapes['student'] == (1, 19, 8, 8)


@pytest.mark.parametrize('warmup, expected', [
    (100, 'connector_warmup must be None or dict(iters=N, freeze_after=False), got 100'),
    (dict(iters=1.5), 'connector_warmup.iters must be an integer >= 0, got 1.5'),
    (dict(iters=10, freeze_after='yes'), "connector_warmup.freeze_after must be True or False, got 'yes'"),
])
def test_connector_warmup_is_checked(networks, warmup, expected):
    entry = dict(type='FeatureMSE', connector=dict(type='ConvConnector'), **FEATURE_TAPS)
    checked = build_distillation(networks, dict(loss_fitnet=entry), (64, 64), connector_warmup=warmup)
    for recorder in checked.recorders.values():
        recorder.remove()
    assert checked.report.problems == [expected]


@pytest.mark.parametrize('value, check, expected', [
    (np.float32(0.5), argument_checks.positive_number, 0.5),
    (np.int64(3), lambda *args: argument_checks.integer_at_least(*args, 1), 3),
    (7, argument_checks.positive_number, 7.0),
    (False, argument_checks.boolean, False),
])
def test_checks_accept_numpy_scalars_and_return_plain_values(value, check, expected):
    result = check('Owner', 'argument', value)
    assert result == expected and type(result) is type(expected)


def test_the_methods_doc_lists_the_allowed_values_of_every_argument():
    """docs/methods.md's table has a row per loss and schedule that names each of its arguments."""
    section = (REPO / 'docs' / 'methods.md').read_text().split('## Allowed argument values')[1]
    rows = {}
    for line in section.splitlines():
        if line.startswith('| `'):
            names, arguments = line.split(' | ', 1)
            for name in re.findall(r'`(\w+)`', names):
                rows[name] = arguments
    classes = [MODELS.get(name) for name in registered_distill_losses()] + list(WEIGHT_SCHEDULES.module_dict.values())
    missing = [f'{cls.__name__}.{argument}' for cls in classes if cls.__name__ != 'ConstantWeight'
               for argument in own_arguments(cls) if f'`{argument}`' not in rows.get(cls.__name__, '')]
    assert not missing, f'arguments without allowed values in docs/methods.md: {missing}'
