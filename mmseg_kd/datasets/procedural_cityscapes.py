"""Procedural street scenes written in the Cityscapes on-disk layout (for tests and the demo).

Real datasets cannot be downloaded everywhere (CI has no access to them), so tests and ``make demo``
generate small street-like scenes and write them exactly as the Cityscapes converter leaves the real
dataset, which mmseg's ``CityscapesDataset`` reads unchanged::

    ROOT/leftImg8bit/{train,val}/CITY/CITY_000000_000123_leftImg8bit.png
    ROOT/gtFine/{train,val}/CITY/CITY_000000_000123_gtFine_labelTrainIds.png   (19 train ids, 255 ignore)
    ROOT/scenes.json                                                             (what was generated)

Each scene has a sky above a random horizon, buildings and trees standing on it, a sidewalk strip, a road with
lane markings and sometimes a grass verge, cars and sometimes a bus on the road, people on the sidewalk and poles:
10 of the 19 Cityscapes classes. Colours are jittered and overlap between classes (road and sidewalk are both grey,
differing in brightness and texture), and every scene has its own light: the sky is clear, overcast, hazy or at
dusk, and the whole image gets an exposure, a contrast, a colour cast and sensor noise of its own. Telling the
classes apart takes context and texture, not a per-pixel colour lookup, and a handful of labeled scenes covers
little of the variety of light that a few hundred show.
"""
import json
import os.path as osp
from typing import Iterator, Tuple

import numpy as np

from mmseg_kd.datasets.image_label_writer import ImageLabelPair, write_image_label_pairs

# Cityscapes train ids of the classes that appear in the scenes.
ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, TERRAIN, SKY, PERSON, CAR, BUS = 0, 1, 2, 5, 8, 9, 10, 11, 13, 15
IGNORE = 255
CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt',)}
# Version of the scenes render_scene draws; a new version draws other scenes from the same seed.
GENERATOR_VERSION = 2
SCENES_FILE = 'scenes.json'  # ROOT/scenes.json: scene_settings() of the files under ROOT
# Skies: clear, overcast, dusk, hazy.
SKY_COLOURS = ((120, 160, 220), (165, 170, 180), (220, 150, 110), (100, 120, 170))
CAR_COLOURS = ((200, 30, 30), (30, 30, 180), (40, 40, 40), (220, 220, 220))
BUS_COLOURS = ((230, 190, 40), (200, 60, 40), (40, 110, 200))


def _jitter(rng, rgb, amount=18):
    return np.clip(np.asarray(rgb, float) + rng.uniform(-amount, amount, 3), 0, 255)


def _paint(image, label, mask, colour, class_id, texture=None):
    image[mask] = colour if texture is None else np.clip(colour + texture[mask][:, None], 0, 255)
    label[mask] = class_id


def _box(ys, xs, top, left, height, width):
    return (ys >= top) & (ys < top + height) & (xs >= left) & (xs < left + width)


def _vehicle(rng, image, label, ys, xs, top, left, height, width, class_id, colour):
    """A body with a darker window band (a row of windows on a bus) and two dark wheels, all ``class_id``."""
    _paint(image, label, _box(ys, xs, top, left, height, width), _jitter(rng, colour, 20), class_id)
    windows = _box(ys, xs, top + max(1, height // 8), left + 1, max(1, height // 3), max(1, width - 2))
    if class_id == BUS:
        windows &= (xs - left) % 6 < 4
    image[windows] = _jitter(rng, (50, 60, 70), 15)
    wheel = max(1, height // 4)
    for centre in (left + width // 5, left + width - width // 5):
        image[_box(ys, xs, top + height - wheel, centre - wheel // 2, wheel, wheel)] = (25, 25, 25)


def render_scene(rng: np.random.Generator, height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """One scene: an (H, W, 3) uint8 RGB image and its (H, W) uint8 train-id label map."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.zeros((height, width, 3), float)
    label = np.full((height, width), IGNORE, np.uint8)
    fine_noise = rng.normal(0, 10, (height, width))
    horizon = int(height * rng.uniform(0.35, 0.55))
    curb = horizon + max(2, int(height * rng.uniform(0.08, 0.16)))

    _paint(image, label, ys < horizon, _jitter(rng, SKY_COLOURS[rng.integers(len(SKY_COLOURS))], 20), SKY,
           texture=-30 * ys / height)
    x = 0
    while x < width:  # a row of buildings and trees standing on the horizon
        span = max(2, int(width * rng.uniform(0.1, 0.3)))
        top = int(horizon * rng.uniform(0.15, 0.8))
        if rng.random() < 0.7:
            windows = 25 * (((ys // 4) % 2 == 0) & ((xs // 4) % 2 == 0))
            _paint(image, label, _box(ys, xs, top, x, horizon - top, span), _jitter(rng, (140, 110, 90), 35),
                   BUILDING, texture=windows)
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
    _paint(image, label, (ys == curb + (height - curb) // 2) & (xs % 12 < 6), _jitter(rng, (220, 220, 220), 10),
           ROAD)  # lane markings
    if rng.random() < 0.4:  # a grass verge along one side of the road
        verge_top, slope = rng.uniform(curb, (curb + height) / 2), rng.uniform(0.8, 2.5)
        reach = width * rng.uniform(0.1, 0.3) + (ys - verge_top) * slope
        verge = (ys >= verge_top) & ((xs < reach) if rng.random() < 0.5 else (xs >= width - reach))
        _paint(image, label, verge, _jitter(rng, (120, 160, 70), 20), TERRAIN, texture=1.5 * fine_noise)
    vehicles = [(CAR, CAR_COLOURS, rng.uniform(1.6, 2.6), rng.uniform(0.09, 0.17))
                for _ in range(rng.integers(1, 4))]
    if rng.random() < 0.35:
        vehicles.append((BUS, BUS_COLOURS, rng.uniform(2.8, 3.8), rng.uniform(0.2, 0.3)))
    for class_id, colours, aspect, relative_height in vehicles:
        vehicle_h = max(2, int(height * relative_height))
        vehicle_w = max(3, int(vehicle_h * aspect))
        top = int(rng.uniform(curb, max(curb + 1, height - vehicle_h)))
        left = int(rng.uniform(-vehicle_w // 4, max(1, width - vehicle_w * 3 // 4)))
        _vehicle(rng, image, label, ys, xs, top, left, vehicle_h, vehicle_w, class_id,
                 colours[rng.integers(len(colours))])
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

    # The light of the scene (time of day, weather, camera): exposure, contrast, colour cast; then sensor noise.
    contrast, exposure = rng.uniform(0.6, 1.2), rng.uniform(0.45, 1.4)
    image = ((image - 128) * contrast + 128) * exposure + rng.uniform(-25, 25, 3)
    image += fine_noise[..., None] * rng.uniform(0.5, 1.5)
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


def scene_settings(num_train: int, num_val: int, size: Tuple[int, int], seed: int) -> dict:
    """What decides the files :func:`write_cityscapes_layout` writes (it saves this as ``ROOT/scenes.json``)."""
    return dict(generator_version=GENERATOR_VERSION, num_train=num_train, num_val=num_val, size=list(size), seed=seed)


def write_cityscapes_layout(root: str, num_train: int = 8, num_val: int = 4,
                            size: Tuple[int, int] = (64, 128), seed: int = 0, progress: bool = True) -> str:
    """Write ``num_train`` / ``num_val`` scenes of ``size`` = (H, W) under ``root``; returns ``root``.

    The same arguments always give the same files. ``progress`` draws a progress bar on stdout.
    """
    write_image_label_pairs(
        cityscapes_layout_pairs(root, num_train, num_val, size, seed), total=num_train + num_val,
        description=f'writing {num_train} + {num_val} generated street scenes ({size[0]}x{size[1]}) to {root}',
        progress=progress)
    with open(osp.join(root, SCENES_FILE), 'w') as file:
        json.dump(scene_settings(num_train, num_val, size, seed), file, indent=2)
    return root
