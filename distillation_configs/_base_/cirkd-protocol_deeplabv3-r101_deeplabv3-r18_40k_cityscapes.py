# CIRKD's Cityscapes protocol (winycg/CIRKD): teacher DeepLabV3-R101, student DeepLabV3-R18, 512x1024 crops, 8 GPUs x 2
# images, CIRKD's 40k schedule. The leaves add the losses (a method base under methods/, or their own).
_base_ = [
    '../../configs/_base_/models/deeplabv3_r18-d8.py',  # the student's data preprocessing (not its model)
    'mmseg::_base_/datasets/cityscapes.py',
    './default_runtime.py',
    './schedules/cirkd_sgd_40k.py',
]
custom_imports = dict(imports=['mmseg_kd'], allow_failed_imports=False)  # SegDistiller, the losses
data_preprocessor = dict(size=_base_.crop_size)
model = dict(
    _delete_=True,
    type='SegDistiller',
    student=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r18-d8_cityscapes-512x1024.py'),
    teacher=dict(cfg_path='{{fileDirname}}/../../configs/cityscapes/deeplabv3_r101-d8_cityscapes-512x1024.py',
                 # mmseg model zoo: deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024, 80.2 mIoU (docs/teachers.md)
                 checkpoint='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/'
                            'deeplabv3_r101-d8_512x1024_80k_cityscapes/'
                            'deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth',
                 checkpoint_sha256='9e428899'),
    distill_losses=dict())
train_dataloader = dict(batch_size=2)  # per GPU
