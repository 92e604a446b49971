# Pascal VOC 2012 + SBD at the scales of the jfzhang95 DeepLabV3+ lineage (Overhaul, AICSD, AttnFD), over mmseg's
# data: the pipelines and the choice of evaluation (MMSEG_KD_LINEAGE_EVALUATION) of ./jfzhang95_pipelines-513x513.py.
_base_ = ['mmseg::_base_/datasets/pascal_voc12_aug.py', './jfzhang95_pipelines-513x513.py']
crop_size = (513, 513)
train_pipeline = _base_.jfzhang95_train_pipeline
test_pipeline = _base_.jfzhang95_test_pipeline
voc_root = 'data/VOCdevkit/VOC2012'
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='PascalVOCDataset', data_root=voc_root, ann_file='ImageSets/Segmentation/train.txt',
         data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'), pipeline=train_pipeline),
    dict(type='PascalVOCDataset', data_root=voc_root, ann_file='ImageSets/Segmentation/aug.txt',
         data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'), pipeline=train_pipeline),
]))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
