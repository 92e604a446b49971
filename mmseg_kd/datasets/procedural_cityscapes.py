"""Procedural street scenes written in the Cityscapes on-disk layout (for tests and the demo).

Real datasets cannot be downloaded everywhere (CI has no access to them), so tests and ``make demo``
generate small street-like scenes and write them exactly as the Cityscapes converter leaves the real
dataset, which mmseg's ``CityscapesDataset`` reads unchanged::

    ROOT/leftImg8bit/{train,val}/CITY/CITY_000000_000123_leftImg8bit.png
    ROOT/gtFine/{train,val}/CITY/CITY_000000_000123_gtFine_labelTrainIds.png   (19 train ids, 255 ignore)

Each scene has a sky above a random horizon, buildings and trees standing on it, a sidewalk strip, a
road, cars on the road, people on the sidewalk and poles. Colours are jittered and overlap between
classes (road and sidewalk are both grey, differing in brightness and texture), and every image has
sensor noise, so telling classes apart needs context and texture, not a per-pixel colour lookup.
"""
import os.path as osp
from typing import Iterator, Tuple

import numpy as np

from mmseg_kd.datasets.image_label_writer import ImageLabelPair, write_image_label_pairs

# Cityscapes train ids of the classes that appear in the scenes.
ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, SKY, PERSON, CAR = 0, 1, 2, 5, 8, 10, 11, 13
IGNORE = 255
CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt',)}


def _jitter(rng, rgb, amount=18):
    return np.clip(np.asarray(rgb, float) + rng.uniform(-amount, amount, 3), 0, 255)


def _paint(image, label, mask, colour, class_id, texture=None):
    image[mask] = colour if texture is None else np.clip(colour + texture[mask][:, None], 0, 255)
    label[mask] = class_id


def render_scene(rng: np.random.Generator, height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """One scene: an (H, W, 3) uint8 RGB image and its (H, W) uint8 train-id label map."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), float)
    label = np.full((height, width), IGNORE, np.uint8)
    fine_noise = rng.normal(0, 10, (height, width))
    horizon = int(height * rng.uniform(0.35, 0.55))
    curb = horizon + int(height * rng.uniform(0.08, 0.15))

    sky = ys < horizon
    _paint(image, label, sky, _jitter(rng, (120, 160, 220)), SKY, texture=-30 * ys / height)
    x = 0
    while x < width:  # a row of buildings and trees standing on the horizon
        span = int(width * rng.uniform(0.1, 0.3))
        top = int(horizon * rng.uniform(0.15, 0.8))
        block = (xs >= x) & (xs < x + span) & (ys >= top) & (ys < horizon)
        if rng.random() < 0.7:
            windows = 25 * (((ys // 4) % 2 == 0) & ((xs // 4) % 2 == 0))
            _paint(image, label, block, _jitter(rng, (140, 110, 90), 30), BUILDING, texture=windows)
        else:
            centre_y, centre_x = top + (horizon - top) / 2, x + span / 2
            crown = ((ys - centre_y) / max(1, (horizon - top) / 2)) ** 2 + \
                ((xs - centre_x) / max(1, span / 2)) ** 2 < 1
            _paint(image, label, crown & (ys < horizon), _jitter(rng, (60, 130, 50), 25), VEGETATION,
                   texture=2 * fine_noise)
        x += span
    _paint(image, label, (ys >= horizon) & (ys < curb), _jitter(rng, (150, 150, 150), 12), SIDEWALK,
           texture=12 * ((xs + ys) % 6 < 3))
    _paint(image, label, ys >= curb, _jitter(rng, (105, 105, 110), 12), ROAD)
    for _ in range(rng.integers(1, 4)):  # cars on the road
        car_h = int(height * rng.uniform(0.08, 0.16))
        car_w = int(car_h * rng.uniform(1.6, 2.6))
        top = int(rng.uniform(curb, height - car_h))
        left = int(rng.uniform(0, max(1, width - car_w)))
        body = (ys >= top) & (ys < top + car_h) & (xs >= left) & (xs < left + car_w)
        _paint(image, label, body, _jitter(rng, rng.choice([(200, 30, 30), (30, 30, 180), (40, 40, 40),
                                                            (220, 220, 220)]), 20), CAR)
    for _ in range(rng.integers(0, 3)):  # people on the sidewalk
        person_h = int(height * rng.uniform(0.12, 0.2))
        centre_x, bottom = rng.uniform(0, width), rng.uniform(horizon, curb)
        person = ((ys - (bottom - person_h / 2)) / (person_h / 2)) ** 2 + \
            ((xs - centre_x) / max(1.5, person_h / 6)) ** 2 < 1
        _paint(image, label, person, _jitter(rng, (200, 160, 120), 40), PERSON)
    for _ in range(rng.integers(0, 3)):  # poles
        left = int(rng.uniform(0, width - 2))
        pole = (xs >= left) & (xs < left + max(1, width // 60)) & (ys >= horizon * 0.3) & (ys < curb)
        _paint(image, label, pole, _jitter(rng, (90, 90, 90), 10), POLE)
    image += fine_noise[..., None]
    return np.clip(image, 0, 255).astype(np.uint8), label


def cityscapes_layout_pairs(root: str, num_train: int, num_val: int, size: Tuple[int, int],
                            seed: int) -> Iterator[ImageLabelPair]:
    """Render the scenes one at a time, each with its Cityscapes-layout image and label paths."""
    rng = np.random.default_rng(seed)
    for split, count in (('train', num_train), ('val', num_val)):
        cities = CITIES[split]
        for index in range(count):
            city = cities[index % len(cities)]
            stem = f'{city}_000000_{index:06d}'
            image, label = render_scene(rng, *size)
            yield ImageLabelPair(
                image_path=osp.join(root, 'leftImg8bit', split, city, stem + '_leftImg8bit.png'), image=image,
                label_path=osp.join(root, 'gtFine', split, city, stem + '_gtFine_labelTrainIds.png'),
                label=label)


def write_cityscapes_layout(root: str, num_train: int = 8, num_val: int = 4,
                            size: Tuple[int, int] = (64, 128), seed: int = 0, progress: bool = True) -> str:
    """Write ``num_train`` / ``num_val`` scenes of ``size`` = (H, W) under ``root``; returns ``root``.

    The same arguments always give the same files. ``progress`` draws a progress bar on stdout.
    """
    write_image_label_pairs(
        cityscapes_layout_pairs(root, num_train, num_val, size, seed), total=num_train + num_val,
        description=f'writing {num_train} + {num_val} generated street scenes ({size[0]}x{size[1]}) to {root}',
        progress=progress)
    return root
