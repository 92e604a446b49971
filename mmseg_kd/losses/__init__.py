"""Distillation losses, one file per loss, each starting with its formula and paper.

Layering: builds on ``layers``, ``schedules``, ``checkpoint`` and ``utils``; the distiller uses it.
"""
from mmseg_kd.losses.attention_guided_feature_distillation import AttentionGuidedFeatureDistillation
from mmseg_kd.losses.attention_transfer import AttentionTransfer, attention_map
from mmseg_kd.losses.channel_group_divergence import ChannelGroupDivergence, grouped_spatial_kl
from mmseg_kd.losses.channel_wise_divergence import ChannelWiseDivergence
from mmseg_kd.losses.distill_loss import DistillLoss, FeatureDistillLoss, LogitDistillLoss
from mmseg_kd.losses.feature_mse import FeatureMSE
from mmseg_kd.losses.holistic_adversarial_distillation import HolisticAdversarialDistillation
from mmseg_kd.losses.inter_class_similarity import InterClassSimilarityDistillation, inter_class_similarity_matrix
from mmseg_kd.losses.inter_intra_class_correlation import InterIntraClassCorrelation
from mmseg_kd.losses.intra_class_feature_variation import IntraClassFeatureVariation
from mmseg_kd.losses.kl_divergence import KLDivergence
from mmseg_kd.losses.masked_feature_generation import MaskedFeatureGeneration
from mmseg_kd.losses.memory_pixel_region_contrast import MemoryPixelRegionContrast
from mmseg_kd.losses.mini_batch_pixel_relation import MiniBatchPixelRelation
from mmseg_kd.losses.omni_contrastive_distillation import OmniContrastiveDistillation, omni_contrastive_loss
from mmseg_kd.losses.overhaul_feature_distillation import OverhaulFeatureDistillation, teacher_bn_margin
from mmseg_kd.losses.pairwise_similarity import PairwiseSimilarityDistillation
from mmseg_kd.losses.receptive_token_masked_distillation import ReceptiveTokenMaskedDistillation
from mmseg_kd.losses.receptive_tokens import load_token_file, save_token_file, token_dice, token_masks

__all__ = ['AttentionGuidedFeatureDistillation', 'AttentionTransfer', 'ChannelGroupDivergence',
           'ChannelWiseDivergence', 'DistillLoss', 'FeatureDistillLoss', 'FeatureMSE',
           'HolisticAdversarialDistillation', 'InterClassSimilarityDistillation', 'InterIntraClassCorrelation',
           'IntraClassFeatureVariation', 'KLDivergence', 'LogitDistillLoss',
           'MaskedFeatureGeneration', 'MemoryPixelRegionContrast', 'MiniBatchPixelRelation',
           'OmniContrastiveDistillation', 'OverhaulFeatureDistillation', 'PairwiseSimilarityDistillation',
           'ReceptiveTokenMaskedDistillation', 'attention_map', 'grouped_spatial_kl', 'inter_class_similarity_matrix',
           'load_token_file', 'omni_contrastive_loss', 'save_token_file', 'teacher_bn_margin', 'token_dice',
           'token_masks']
