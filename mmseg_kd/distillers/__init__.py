from mmseg_kd.distillers.channel_spatial_attention import (ChannelSpatialAttention,
                                                          ParameterFreeChannelSpatialAttention)
from mmseg_kd.distillers.connectors import Connector, ConvBNConnector, ConvConnector, ResizeConnector
from mmseg_kd.distillers.seg_distiller import SegDistiller
from mmseg_kd.distillers.taps import Tap, TapRecorder, UnknownTapError

__all__ = ['ChannelSpatialAttention', 'Connector', 'ConvBNConnector', 'ConvConnector',
           'ParameterFreeChannelSpatialAttention', 'ResizeConnector', 'SegDistiller', 'Tap', 'TapRecorder',
           'UnknownTapError']
