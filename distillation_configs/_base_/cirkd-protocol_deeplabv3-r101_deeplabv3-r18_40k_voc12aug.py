# CIRKD's Pascal VOC protocol (winycg/CIRKD): teacher DeepLabV3-R101, student DeepLabV3-R18, VOC 2012 + SBD, 512x512
# crops, 8 GPUs x 2 images, CIRKD's 40k schedule. The leaves add the losses (a method base under methods/, or their
# own).
_base_ = [
    '../../configs/_base_/models/deeplabv3_r18-d8.py',  # the student's data preprocessing (not its model)
    'mmseg::_base_/datasets/pascal_voc12_aug.py',
    './default_runtime.py',
    './schedules/cirkd_sgd_40k.py',
]
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)  # SegDistiller, the losses
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3_r18-d8_voc12aug-512x512.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/voc12aug/deeplabv3_r101-d8_voc12aug-512x512.py',
                 # mmseg model zoo: deeplabv3_r101-d8_4xb4-40k_voc12aug-512x512, 77.92 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/'
                            'deeplabv3_r101-d8_512x512_40k_voc12aug/'
                            'deeplabv3_r101-d8_512x512_40k_voc12aug_20200613_161432-0017d784.pth',
                 checkpoint_sha256='0017d784'),
    distill_losses=dict())
train_dataloader = dict(batch_size=2)  # per GPU
