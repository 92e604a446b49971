"""Miniature Pascal VOC 2012 + SBD and ADE20K datasets in their official download layouts (for tests).

The scenes are the procedural street scenes of ``procedural_cityscapes.py``; their classes are mapped to each
dataset's own ids (VOC: person, car, bus, background; ADE20K: its 150 classes, looked up by name in mmseg's
``ADE20KDataset`` metainfo). The layouts are those of the official downloads, before our converters run:

    VOCdevkit/VOC2012/JPEGImages/ID.jpg, SegmentationClass/ID.png (palette PNG), ImageSets/Segmentation/{train,val}.txt
    SBD: benchmark_RELEASE/dataset/cls/ID.mat (struct GTcls with field Segmentation), {train,val}.txt
    ADEChallengeData2016.zip: ADEChallengeData2016/images/{training,validation}/ADE_*_N.jpg,
                              ADEChallengeData2016/annotations/{training,validation}/ADE_*_N.png (0 = other, 1..150)
"""
import io
import os
import os.path as osp
import zipfile
from typing import Dict

import numpy as np
from mmseg.datasets import ADE20KDataset, PascalVOCDataset
from PIL import Image
from scipy.io import savemat

from mmseg_kd.datasets.procedural_cityscapes import (
    BUILDING,
    BUS,
    CAR,
    IGNORE,
    PERSON,
    POLE,
    ROAD,
    SIDEWALK,
    SKY,
    TERRAIN,
    VEGETATION,
    render_scene,
)


def _lookup(scene_classes: Dict[int, int]) -> np.ndarray:
    table = np.zeros(256, np.uint8)
    table[IGNORE] = IGNORE
    for scene_class, target in scene_classes.items():
        table[scene_class] = target
    return table


def voc_ids() -> np.ndarray:
    """Scene train id -> VOC class id (0 background, 255 void)."""
    classes = PascalVOCDataset.METAINFO['classes']
    return _lookup({PERSON: classes.index('person'), CAR: classes.index('car'), BUS: classes.index('bus')})


def ade20k_ids() -> np.ndarray:
    """Scene train id -> ADE20K annotation value (class index + 1; 0 = other)."""
    classes = [name.strip() for name in ADE20KDataset.METAINFO['classes']]
    names = {ROAD: 'road', SIDEWALK: 'sidewalk', BUILDING: 'building', POLE: 'pole', VEGETATION: 'tree',
             TERRAIN: 'grass', SKY: 'sky', PERSON: 'person', CAR: 'car', BUS: 'bus'}
    table = _lookup({scene: classes.index(name) + 1 for scene, name in names.items()})
    table[IGNORE] = 0
    return table


def _voc_palette() -> list:
    palette = np.zeros((256, 3), np.uint8)
    palette[:len(PascalVOCDataset.METAINFO['palette'])] = PascalVOCDataset.METAINFO['palette']
    palette[255] = (224, 224, 192)
    return palette.flatten().tolist()


def write_voc_sbd_layout(voc_root: str, sbd_root: str, num_voc_train: int = 4, num_voc_val: int = 3,
                         num_sbd: int = 6, size=(64, 64), seed: int = 1) -> None:
    """VOC2012 (JPEGImages, palette SegmentationClass, train/val lists) and SBD (.mat masks, train/val lists).

    Image ids: ``2007_00000N`` for VOC's own train/val, ``2008_00000N`` for SBD-only images; SBD also holds
    one VOC train and one VOC val image, as the real SBD overlaps VOC.
    """
    rng = np.random.default_rng(seed)
    table = voc_ids()
    voc_train = [f'2007_{i:06d}' for i in range(num_voc_train)]
    voc_val = [f'2007_{i:06d}' for i in range(num_voc_train, num_voc_train + num_voc_val)]
    sbd_only = [f'2008_{i:06d}' for i in range(num_sbd)]
    for folder in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(voc_root, folder), exist_ok=True)
    os.makedirs(osp.join(sbd_root, 'dataset', 'cls'), exist_ok=True)
    for image_id in voc_train + voc_val + sbd_only:
        image, scene_labels = render_scene(rng, *size)
        labels = table[scene_labels]
        Image.fromarray(image).save(osp.join(voc_root, 'JPEGImages', f'{image_id}.jpg'), quality=95)
        if image_id.startswith('2007'):
            mask = Image.fromarray(labels, mode='P')
            mask.putpalette(_voc_palette())
            mask.save(osp.join(voc_root, 'SegmentationClass', f'{image_id}.png'))
        if image_id.startswith('2008') or image_id in (voc_train[0], voc_val[0]):
            sbd_labels = np.where(labels == 255, 0, labels).astype(np.uint8)  # SBD has no void border
            savemat(osp.join(sbd_root, 'dataset', 'cls', f'{image_id}.mat'),
                    {'GTcls': {'Segmentation': sbd_labels, 'CategoriesPresent': np.unique(sbd_labels)}})
    lists = {osp.join(voc_root, 'ImageSets/Segmentation/train.txt'): voc_train,
             osp.join(voc_root, 'ImageSets/Segmentation/val.txt'): voc_val,
             osp.join(sbd_root, 'dataset/train.txt'): sbd_only[:-2] + [voc_train[0]],
             osp.join(sbd_root, 'dataset/val.txt'): sbd_only[-2:] + [voc_val[0]]}
    for path, ids in lists.items():
        with open(path, 'w') as file:
            file.write('\n'.join(ids) + '\n')


def write_ade20k_zip(zip_path: str, num_train: int = 6, num_val: int = 3, size=(64, 64), seed: int = 2) -> None:
    """An ``ADEChallengeData2016.zip`` with the official folder structure inside."""
    rng = np.random.default_rng(seed)
    table = ade20k_ids()
    os.makedirs(osp.dirname(osp.abspath(zip_path)), exist_ok=True)
    with zipfile.ZipFile(zip_path, 'w') as archive:
        for split, prefix, count in (('training', 'ADE_train', num_train), ('validation', 'ADE_val', num_val)):
            for index in range(count):
                image, scene_labels = render_scene(rng, *size)
                stem = f'{prefix}_{index + 1:08d}'
                for folder, suffix, array, fmt in (('images', '.jpg', image, 'JPEG'),
                                                   ('annotations', '.png', table[scene_labels], 'PNG')):
                    buffer = io.BytesIO()
                    Image.fromarray(array).save(buffer, format=fmt)
                    archive.writestr(f'ADEChallengeData2016/{folder}/{split}/{stem}{suffix}', buffer.getvalue())
