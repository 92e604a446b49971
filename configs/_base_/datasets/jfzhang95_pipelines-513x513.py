# The data pipelines of the jfzhang95 DeepLabV3+ lineage (jfzhang95/pytorch-deeplab-xception, whose data code Overhaul,
# AICSD and AttnFD reuse), for the dataset pieces jfzhang95_<dataset>-513x513.py: training images resized to a shorter
# side of 256 to 1026 (513 x 0.5 to 2.0) before the 513x513 crop, evaluation at a shorter side of 513. Other
# augmentation: mmseg's.
#
# What the mIoU is computed against is the variable `evaluation`, read from the environment variable
# MMSEG_KD_LINEAGE_EVALUATION (mmengine substitutes it when it loads the config):
# * 'full_resolution' (default): the prediction is upsampled to the full-resolution labels, as mmseg evaluates;
# * 'shorter_side_513': the labels are resized (nearest) with the image to a shorter side of 513 and the prediction
#   is compared there, as the papers' code (FixedResize(513)) computed its published mIoU.
#       MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513 python tools/test.py CONFIG CHECKPOINT
jfzhang95_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(4096, 513), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(513, 513), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
jfzhang95_test_pipelines = dict(
    full_resolution=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(4096, 513), keep_ratio=True),
        dict(type='LoadAnnotations'),
        dict(type='PackSegInputs'),
    ],
    shorter_side_513=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='Resize', scale=(4096, 513), keep_ratio=True),  # the labels too, nearest
        # mmseg resizes the prediction to ori_shape: mmcv's KeyMapper sets ori_shape to the resized image's shape
        dict(type='KeyMapper', mapping=dict(img_shape='img_shape'), remapping=dict(img_shape='ori_shape'),
             transforms=[]),
        dict(type='PackSegInputs'),
    ])
evaluation = '{{$MMSEG_KD_LINEAGE_EVALUATION:full_resolution}}'
if evaluation not in jfzhang95_test_pipelines:
    raise ValueError(f'MMSEG_KD_LINEAGE_EVALUATION={evaluation!r}: choose one of '
                     f"{sorted(jfzhang95_test_pipelines)} (unset: 'full_resolution')")
jfzhang95_test_pipeline = jfzhang95_test_pipelines[evaluation]
