from mmseg_kd.losses.channel_group_divergence import ChannelGroupDivergence, grouped_spatial_kl
from mmseg_kd.losses.channel_wise_divergence import ChannelWiseDivergence
from mmseg_kd.losses.class_embedding_queue import ClassEmbeddingQueue
from mmseg_kd.losses.distill_loss import DistillLoss, LogitDistillLoss
from mmseg_kd.losses.inter_intra_class_correlation import InterIntraClassCorrelation
from mmseg_kd.losses.kl_divergence import KLDivergence
from mmseg_kd.losses.memory_pixel_region_contrast import MemoryPixelRegionContrast
from mmseg_kd.losses.mini_batch_pixel_relation import MiniBatchPixelRelation

__all__ = ['ChannelGroupDivergence', 'ChannelWiseDivergence', 'ClassEmbeddingQueue', 'DistillLoss',
           'InterIntraClassCorrelation', 'KLDivergence', 'LogitDistillLoss', 'MemoryPixelRegionContrast',
           'MiniBatchPixelRelation', 'grouped_spatial_kl']
