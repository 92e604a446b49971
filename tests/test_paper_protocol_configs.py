"""The two families of distillation configs (mmseg's networks and model-zoo teachers; the papers' networks and
converted teachers) and the lineage's evaluation at a shorter side of 513.

* Every paper-family config distils a paper teacher into a paper student of the same code base, from a local
  converted (or self-trained) checkpoint, and its header says where the teacher comes from and what was published.
* Every mmseg-family config of the CIRKD protocol and of the lineage names its paper twin, which exists.
* ``MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513`` resizes the labels with the image and makes mmseg compare the
  prediction there; the default compares with the full-resolution labels. Checked on a real image file through
  mmseg's transforms, against the sizes and the nearest-neighbour labels worked out by hand.
"""
import ast
import re
from pathlib import Path

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image

from conftest import REPO

DISTILLATION = REPO / 'distillation_configs'
LEAVES = sorted(path for path in DISTILLATION.rglob('*.py') if '_base_' not in path.relative_to(REPO).parts)
PAPER_PREFIXES = ('cirkd-', 'jfzhang95-')
PAPER_LEAVES = [path for path in LEAVES if path.stem.split('_')[1].startswith(PAPER_PREFIXES)]
LINEAGE_DATASETS = {'cityscapes': REPO / 'configs/_base_/datasets/jfzhang95_cityscapes-513x513.py',
                    'voc12aug': REPO / 'configs/_base_/datasets/jfzhang95_pascal_voc12_aug-513x513.py'}


def header(path: Path) -> str:
    lines = path.read_text().splitlines()
    return ' '.join(line[2:] for line in lines[:next(i for i, line in enumerate(lines) if not line.startswith('#'))])


def with_bases(path: Path):
    """The config file and the local files of its ``_base_`` chain."""
    yield path
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [target.id for target in node.targets] == ['_base_']:
            for base in ast.literal_eval(node.value):
                if '::' not in base:
                    yield from with_bases((path.parent / base).resolve())


def test_the_paper_family_is_complete():
    """CIRKD's protocol (CIRKD, KD, CWD, SKD, IFVD, AT, FitNet, DIST, Af-DCD, MGD, MasKD) and the lineage (AICSD,
    efficient KD, AttnFD, Overhaul), with the papers' networks."""
    methods = {path.parent.name for path in PAPER_LEAVES}
    assert methods == {'cirkd', 'kd', 'cwd', 'skd', 'ifvd', 'at', 'fitnet', 'dist', 'afdcd', 'mgd', 'maskd', 'aicsd',
                       'efficientkd', 'attnfd', 'overhaul'}
    assert len(PAPER_LEAVES) == 41, [path.name for path in PAPER_LEAVES]


@pytest.mark.parametrize('path', PAPER_LEAVES, ids=lambda path: path.name)
def test_paper_config_pairs_networks_of_one_code_base_with_a_local_teacher_and_says_where_it_comes_from(path):
    cfg = Config.fromfile(path)
    family = path.stem.split('_')[1].split('-')[0]
    for network in ('teacher', 'student'):
        assert Path(cfg.model[network].cfg_path).name.startswith(f'{family}-'), (network, cfg.model[network].cfg_path)
    checkpoint = cfg.model.teacher.checkpoint
    assert checkpoint.startswith('checkpoints/') and checkpoint.endswith('.pth'), checkpoint
    assert Path(checkpoint).stem.endswith(Path(cfg.model.teacher.cfg_path).stem), (checkpoint, cfg.model.teacher)
    text = header(path)
    assert 'Teacher:' in text and re.search(r'Published|published|reports no|No published|publishes no', text), text
    # where the teacher comes from: a converter command or the config to train it, here or in a base
    origin = ' '.join(header(config) for config in with_bases(path))
    assert re.search(r'tools/model_converters/(cirkd|deeplabv3plus)2mmseg\.py|none released', origin), origin


@pytest.mark.parametrize('path', [path for path in LEAVES if "# Teacher: mmseg's model zoo" in path.read_text()],
                         ids=lambda path: path.name)
def test_mmseg_family_config_names_its_paper_twin_which_exists(path):
    twin = re.search(r'the paper\'s networks and teacher: (\S+\.py)', header(path)).group(1)
    assert (path.parent / twin).is_file(), twin
    assert twin.split('_')[0] == path.name.split('_')[0] and twin.split('_', 3)[3] == path.name.split('_', 3)[3]


# ----------------------------------------------------------------------------- the lineage's evaluation
def write_image_and_labels(folder: Path, height: int, width: int):
    """A 3-band image and labels: the left 40 % class 1, the right 60 % class 2, the top row ignored (255)."""
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    labels = np.full((height, width), 2, dtype=np.uint8)
    labels[:, :int(0.4 * width)] = 1
    labels[0] = 255
    Image.fromarray(image).save(folder / 'image.png')
    Image.fromarray(labels).save(folder / 'labels.png')
    return labels


def evaluated_sample(dataset: str, monkeypatch, evaluation=None):
    if evaluation is None:
        monkeypatch.delenv('MMSEG_KD_LINEAGE_EVALUATION', raising=False)
    else:
        monkeypatch.setenv('MMSEG_KD_LINEAGE_EVALUATION', evaluation)
    cfg = Config.fromfile(LINEAGE_DATASETS[dataset])
    assert cfg.test_dataloader.dataset.pipeline == cfg.val_dataloader.dataset.pipeline
    return cfg, Compose(cfg.val_dataloader.dataset.pipeline)


@pytest.mark.parametrize('dataset', sorted(LINEAGE_DATASETS))
def test_shorter_side_513_evaluation_resizes_the_labels_and_compares_there(dataset, monkeypatch, tmp_path):
    init_default_scope('mmseg')
    labels = write_image_and_labels(tmp_path, 100, 250)  # 100 x 250 -> 513 x 1283 (250 x 5.13 = 1282.5, rounded up)
    cfg, pipeline = evaluated_sample(dataset, monkeypatch, 'shorter_side_513')
    assert cfg.evaluation == 'shorter_side_513'
    sample = pipeline(dict(img_path=str(tmp_path / 'image.png'), seg_map_path=str(tmp_path / 'labels.png'),
                           reduce_zero_label=False, seg_fields=[]))['data_samples']
    resized = sample.gt_sem_seg.data[0].numpy()
    assert resized.shape == (513, 1283) == sample.img_shape == sample.ori_shape  # mmseg resizes the prediction there
    # nearest neighbour: column x of 1283 shows column floor(x / 5.132) of 250; class 1 covers columns 0 to 99
    assert (resized[:, :int(99 * 1283 / 250)] != 2).all() and (resized[:, int(101 * 1283 / 250):] != 1).all()
    assert (resized[:5] == 255).all() and (resized[6:] != 255).all()  # the ignored top row is 5.13 rows high
    assert set(np.unique(resized)) == set(np.unique(labels))


@pytest.mark.parametrize('dataset', sorted(LINEAGE_DATASETS))
def test_default_evaluation_compares_with_the_full_resolution_labels(dataset, monkeypatch, tmp_path):
    init_default_scope('mmseg')
    labels = write_image_and_labels(tmp_path, 100, 250)
    cfg, pipeline = evaluated_sample(dataset, monkeypatch)
    assert cfg.evaluation == 'full_resolution'
    sample = pipeline(dict(img_path=str(tmp_path / 'image.png'), seg_map_path=str(tmp_path / 'labels.png'),
                           reduce_zero_label=False, seg_fields=[]))['data_samples']
    assert sample.img_shape == (513, 1283) and sample.ori_shape == (100, 250)
    assert np.array_equal(sample.gt_sem_seg.data[0].numpy(), labels)


def test_an_unknown_lineage_evaluation_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv('MMSEG_KD_LINEAGE_EVALUATION', 'papers')
    with pytest.raises(ValueError, match=r"MMSEG_KD_LINEAGE_EVALUATION='papers': choose one of "
                                         r"\['full_resolution', 'shorter_side_513'\]"):
        Config.fromfile(LINEAGE_DATASETS['voc12aug'])


def test_the_lineage_distillation_configs_take_the_evaluation_from_the_environment(monkeypatch):
    monkeypatch.setenv('MMSEG_KD_LINEAGE_EVALUATION', 'shorter_side_513')
    cfg = Config.fromfile(DISTILLATION / 'attnfd/attnfd_jfzhang95-deeplabv3plus-r101_jfzhang95-deeplabv3plus-r18_'
                                         '99k_cityscapes.py')
    steps = [step.type for step in cfg.val_dataloader.dataset.pipeline]
    assert steps == ['LoadImageFromFile', 'LoadAnnotations', 'Resize', 'KeyMapper', 'PackSegInputs']
    assert cfg.test_dataloader.dataset.pipeline == cfg.val_dataloader.dataset.pipeline


def test_docs_table_of_the_papers_teachers_matches_the_configs():
    """docs/teachers.md lists every converted (or self-trained) teacher of the paper family, with its config."""
    section = (REPO / 'docs' / 'teachers.md').read_text().split("## The papers' teachers", 1)[1].split('\n## ', 1)[0]
    table, config = {}, None
    for row in (line.split('|')[1:-1] for line in section.splitlines() if line.startswith('| ') and '`' in line):
        cells = [cell.strip() for cell in row]
        config = config if cells[2] == 'the same' else cells[2].strip('`')
        table[cells[3].strip('`')] = config
    used = {}
    for path in PAPER_LEAVES:
        teacher = Config.fromfile(path).model.teacher
        used[teacher.checkpoint] = str(Path(teacher.cfg_path).resolve().relative_to(REPO))
    assert table == used
