from mmseg_kd.losses.channel_group_divergence import ChannelGroupDivergence, grouped_spatial_kl
from mmseg_kd.losses.channel_wise_divergence import ChannelWiseDivergence
from mmseg_kd.losses.distill_loss import DistillLoss, LogitDistillLoss
from mmseg_kd.losses.kl_divergence import KLDivergence

__all__ = ['ChannelGroupDivergence', 'ChannelWiseDivergence', 'DistillLoss', 'KLDivergence',
           'LogitDistillLoss', 'grouped_spatial_kl']
