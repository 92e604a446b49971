# The demo's label-scarce KD (8 labeled + 248 unlabeled scenes) with the offline teacher (docs/teacher_cache.md):
# tools/cache_teacher.py runs PSPNet-R101 once per training image and stores its logits in work_dirs/demo/
# teacher_cache; training reads them through the pipeline and never runs (or loads the weights of) the teacher.
#   python tools/cache_teacher.py THIS_CONFIG
#   python tools/train.py THIS_CONFIG
_base_ = ['./kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_cityscapes.py']

cache = 'work_dirs/demo/teacher_cache'
model = dict(teacher=dict(cache=cache))

# The base config's two pipelines, with the cached map loaded after the resize and packed with the sample.
labeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='LoadCachedTeacherLogits', cache=cache),
    dict(type='RandomCrop', crop_size=(64, 128), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputsWithTeacherLogits'),
]
unlabeled_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='AddIgnoredLabelMap'),
    dict(type='RandomResize', scale=(128, 64), ratio_range=(1.0, 1.5), keep_ratio=True),
    dict(type='LoadCachedTeacherLogits', cache=cache),
    dict(type='RandomCrop', crop_size=(64, 128)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputsWithTeacherLogits'),
]
data_root = 'data/demo_cityscapes/'
labeled = dict(
    type='CityscapesDataset', data_root=data_root, ann_file='splits/8/labeled.txt',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'), pipeline=labeled_pipeline)
unlabeled = dict(
    type='CityscapesDataset', data_root=data_root, ann_file='splits/8/unlabeled.txt',
    data_prefix=dict(img_path='leftImg8bit/train'), pipeline=unlabeled_pipeline)
train_dataloader = dict(dataset=dict(
    _delete_=True, type='ConcatDataset', datasets=[dict(type='RepeatDataset', times=31, dataset=labeled), unlabeled]))
