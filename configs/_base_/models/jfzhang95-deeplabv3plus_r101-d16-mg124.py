# The DeepLabV3+ of jfzhang95/pytorch-deeplab-xception with ResNet-101, output stride 16: the teacher of Overhaul
# (clovaai/overhaul-distillation), AICSD and AttnFD. 7x7-stem ResNet-101, strides (1, 2, 2, 1), layer4 dilated
# with multi-grid (1, 2, 4) relative to its dilation 2 (absolute 2, 4, 8); plain-conv ASPP 256 wide at rates
# 6/12/18 with the image-pool branch last, 1x1 projection + Dropout(0.5); decoder: layer1 reduced to 48 channels,
# two 3x3 convs 304 -> 256 -> 256 with Dropout(0.5) between, Dropout(0.1); no auxiliary head; align_corners=True;
# RGB input, ImageNet mean/std.
# Weights: the papers' released teachers (.pth.tar), converted with tools/model_converters/deeplabv3plus2mmseg.py;
# ImageNet backbone: torchvision's ResNet-101, as in the papers' code.
# num_classes and data are set per dataset.
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNet',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 1, 2),
        strides=(1, 2, 2, 1),
        multi_grid=(2, 4, 8),
        contract_dilation=False,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    decode_head=dict(
        type='PlainConvDeepLabV3PlusHead',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(1, 6, 12, 18),
        c1_in_channels=256,
        c1_channels=48,
        projection_dropout_ratio=0.5,
        fuse_dropout_ratio=0.5,
        dropout_ratio=0.1,
        num_classes=21,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
