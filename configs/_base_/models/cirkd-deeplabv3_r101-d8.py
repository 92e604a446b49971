# CIRKD v1's DeepLabV3-ResNet101 (winycg/CIRKD at 2d8ad0f, models/deeplabv3.py; the CIRKD teacher), output stride 8.
# ResNet-101 with CIRKD's deep stem (3x3 convs 64-64-128), dilations (1, 1, 2, 4) contracted in each stage's first
# block; ASPP 256 wide at rates 12/24/36 with the image-pool branch last, 1x1 projection + Dropout(0.5), 3x3 conv,
# Dropout(0.1); FCN auxiliary head on layer3 (weight 0.4); align_corners=True; BGR input minus Caffe means, std 1.
# Weights: CIRKD's released checkpoints, converted with tools/model_converters/cirkd2mmseg.py; ImageNet backbone:
# CIRKD's resnet101-imagenet.pth converted to checkpoints/cirkd-resnet101_imagenet.pth (docs/model_converters.md).
# num_classes and data are set per dataset.
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[104.00698793, 116.66876762, 122.67891434],
    std=[1.0, 1.0, 1.0],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        stem_channels=128,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        contract_dilation=True,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cirkd-resnet101_imagenet.pth')),
    decode_head=dict(
        type='ProjectedASPPHead',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(1, 12, 24, 36),
        projection_dropout_ratio=0.5,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=True,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
