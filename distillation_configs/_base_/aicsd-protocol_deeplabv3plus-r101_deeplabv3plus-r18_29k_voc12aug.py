# The AICSD/AttnFD code base's Pascal VOC protocol (AmirMansurian/AICSD, AmirMansurian/AttnFD; also its efficient-KD
# code): teacher DeepLabV3+-R101, student DeepLabV3+-R18, 512x512 crops, 6 images per step on one GPU, its 120-epoch
# schedule (29,280 iterations). The reference trains on VOC train only (1,464 images: its --use-sbd flag is broken);
# this protocol trains the same number of steps on VOC 2012 + SBD (the intended --use-sbd). For the published
# setting use VOC train: train_dataloader.dataset = the VOC dataset of mmseg's pascal_voc12.py with
# ann_file='ImageSets/Segmentation/train.txt'. The leaves add a method base (methods/).
_base_ = [
    '../../configs/_base_/models/deeplabv3plus_r18-d8.py',  # the student's data preprocessing (not its model)
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    './default_runtime.py',
    './schedules/aicsd_sgd_29k.py',
]
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)  # SegDistiller, the losses
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_r18-d8_voc12aug-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3plus_r101-d8_voc12aug-512x512.py',
                 # mmseg model zoo: deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512, 78.62 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/'
                            'deeplabv3plus_r101-d8_512x512_40k_voc12aug/'
                            'deeplabv3plus_r101-d8_512x512_40k_voc12aug_20200613_205333-faf03387.pth',
                 checkpoint_sha256='faf03387'),
    distill_losses=dict())
train_dataloader = dict(batch_size=6)  # one GPU
