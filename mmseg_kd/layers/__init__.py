"""Building blocks that losses and the distiller use: connectors, channel-spatial attention (CBAM), the SKD
logit discriminator and per-class embedding queues.

Layering: depends on ``mmseg_kd.registry``, ``mmseg_kd.utils`` and mmcv only; ``losses`` and ``distillers`` build on it.
"""
from mmseg_kd.layers.channel_spatial_attention import ChannelSpatialAttention, ParameterFreeChannelSpatialAttention
from mmseg_kd.layers.class_embedding_queue import ClassEmbeddingQueue
from mmseg_kd.layers.connectors import Connector, ConvBNConnector, ConvConnector, ResizeConnector
from mmseg_kd.layers.generation_projectors import TwoBranchProjector, build_projector
from mmseg_kd.layers.keep_mask_sampler import KeepMaskSampler
from mmseg_kd.layers.logit_discriminator import LogitDiscriminator

__all__ = ['ChannelSpatialAttention', 'ClassEmbeddingQueue', 'Connector', 'ConvBNConnector', 'ConvConnector',
           'KeepMaskSampler', 'LogitDiscriminator', 'ParameterFreeChannelSpatialAttention', 'ResizeConnector',
           'TwoBranchProjector', 'build_projector']
