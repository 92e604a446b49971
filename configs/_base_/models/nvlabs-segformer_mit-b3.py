# SegFormer-B3 as NVlabs/SegFormer builds it (mmseg 0.x), the SegFormer teacher of SegDistill: mmseg's MiT-B3 encoder
# with the NVlabs head (LinearEmbeddingSegformerHead: one Linear per level without BN/ReLU, 768 wide, embeddings
# concatenated c4..c1), which mmseg 1.x's SegformerHead cannot hold; align_corners=False; RGB input, ImageNet
# mean/std. The NVlabs patch-embedding LayerNorms have eps 1e-5, mmseg's 1e-6 (relative output difference ~1e-6).
# Weights: NVlabs-layout checkpoints, converted with tools/model_converters/segdistill2mmseg.py; ImageNet encoder:
# mmseg's converted mit_b3.
# num_classes and data are set per dataset.
_base_ = ['./segformer_mit-b3.py']
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='LinearEmbeddingSegformerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=768,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
