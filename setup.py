"""mmseg-kd: knowledge distillation for semantic segmentation on mmsegmentation 1.x."""
from setuptools import find_packages, setup

setup(
    name='mmseg_kd',
    version='0.1.0',
    description='Knowledge-distillation toolbox for semantic segmentation on mmsegmentation 1.x',
    packages=find_packages(include=['mmseg_kd', 'mmseg_kd.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.6',
        'torchvision',
        'mmcv==2.1.0',
        'mmengine==0.10.7',
        'mmsegmentation==1.2.2',
        'setuptools>=77,<81',
        'timm',
        'tensorboard',
        'cityscapesscripts',
        'matplotlib',
    ],
    extras_require={'tests': ['pytest']},
)
