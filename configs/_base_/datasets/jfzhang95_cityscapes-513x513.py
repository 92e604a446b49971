# Cityscapes at the scales of the jfzhang95 DeepLabV3+ lineage (Overhaul, AICSD, AttnFD), over mmseg's data: the
# pipelines and the choice of evaluation (MMSEG_KD_LINEAGE_EVALUATION) of ./jfzhang95_pipelines-513x513.py.
_base_ = ['mmseg::_base_/datasets/cityscapes.py', './jfzhang95_pipelines-513x513.py']
crop_size = (513, 513)
train_pipeline = _base_.jfzhang95_train_pipeline
test_pipeline = _base_.jfzhang95_test_pipeline
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
