"""Run a trained distillation's teacher and student on single images: predictions, logits, tapped maps.

The distiller is built from its config exactly as for training (the teacher's weights from
``teacher.checkpoint``), the student's weights come from a distillation checkpoint (or an exported
student checkpoint), and images go through the config's own test pipeline and data preprocessor. Ground
truth comes from the config's datasets when an image belongs to one, or from a given label file.
"""
import copy
import logging
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

from mmseg_kd.analysis.compared_maps import ComparedMaps, compared_maps
from mmseg_kd.checkpoint.safe_loading import extract_state_dict, load_checkpoint_file, load_state_dict_strictly
from mmseg_kd.distillers.forward_for_taps import forward_for_taps
from mmseg_kd.distillers.seg_distiller import SegDistiller, is_distiller_config
from mmseg_kd.registry import MODELS

STUDENT_PREFIX = 'student.'
SPLITS = ('test_dataloader', 'val_dataloader', 'train_dataloader')


def student_weights(checkpoint: dict, what: str) -> Dict[str, torch.Tensor]:
    """The student's weights from a distillation checkpoint (``student.*`` keys) or an exported one."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = {key[len(STUDENT_PREFIX):]: value for key, value in state_dict.items()
               if key.startswith(STUDENT_PREFIX)}
    return student or extract_state_dict(checkpoint, what=what)


def load_distiller(cfg: Config, checkpoint: Optional[str]) -> SegDistiller:
    """The config's distiller in eval mode: teacher from ``teacher.checkpoint``, student from ``checkpoint`` (a
    distillation checkpoint or an exported student; ``None``: the student as training starts, built and
    initialised by its ``init_weights``)."""
    if not is_distiller_config(cfg.model):
        raise ValueError(f"the config's model is a {cfg.model.get('type')!r}, not a SegDistiller: "
                         'give the distillation config the checkpoint was trained with')
    if cfg.model.teacher.get('checkpoint') is None:
        raise ValueError('teacher.checkpoint is None: the results would come from a randomly initialised '
                         'teacher. Set it in the config or add --cfg-options model.teacher.checkpoint=PATH')
    init_default_scope(cfg.get('default_scope') or 'mmseg')
    distiller = MODELS.build(cfg.model)
    if checkpoint is None:
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs one INFO record per parameter
        try:
            distiller.student.init_weights()
        finally:
            logger.setLevel(level)
        return distiller.eval()
    what = f'checkpoint {checkpoint!r}'
    weights = student_weights(load_checkpoint_file(checkpoint, what=what), what)
    load_state_dict_strictly(distiller.student, weights, what=f'student weights of {what}',
                             config_hint=cfg.model.student.get('cfg_path', 'the student config'))
    return distiller.eval()


def dataset_config(cfg: Config) -> dict:
    """The config's test (else val, else train) dataset config."""
    for split in SPLITS:
        if cfg.get(split):
            return copy.deepcopy(cfg[split].dataset)
    raise ValueError('the config has no test_dataloader, val_dataloader or train_dataloader dataset')


def dataset_meta(cfg: Config) -> dict:
    """Classes, palette and label conventions of the config's dataset, without reading any file.

    Returns:
        ``dict(classes=..., palette=..., reduce_zero_label=..., label_map=...)``.
    """
    dataset = DATASETS.build(dict(dataset_config(cfg), lazy_init=True, pipeline=[]))
    return dict(classes=list(dataset.metainfo['classes']),
                palette=[list(colour) for colour in dataset.metainfo['palette']],
                reduce_zero_label=dataset.reduce_zero_label, label_map=dataset.label_map)


def find_in_datasets(cfg: Config, image_paths: Sequence[str]) -> Dict[str, dict]:
    """The dataset entries (with ``seg_map_path``) of the images that belong to the config's datasets.

    The test, val and train datasets are listed in that order until every image is found; a dataset whose
    files are not on this machine is skipped.

    Returns:
        ``{image path as given: data info}`` for the images found.
    """
    wanted = {osp.realpath(path): path for path in image_paths}
    found = {}
    for split in SPLITS:
        if not cfg.get(split) or len(found) == len(wanted):
            continue
        try:
            dataset = DATASETS.build(dict(copy.deepcopy(cfg[split].dataset), pipeline=[]))
        except (FileNotFoundError, NotADirectoryError, AssertionError):  # mmseg asserts its ann_file exists
            continue
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            given = wanted.get(osp.realpath(info['img_path']))
            if given is not None and given not in found:
                found[given] = info
    return found


def sample_info(image_path: str, gt_path: Optional[str], meta: dict) -> dict:
    """A data info for an image outside the datasets (with its label file, if given)."""
    info = dict(img_path=image_path, seg_fields=[], reduce_zero_label=meta['reduce_zero_label'],
                label_map=meta['label_map'])
    if gt_path is not None:
        info['seg_map_path'] = gt_path
    return info


def inference_pipeline(cfg: Config, with_labels: bool) -> Compose:
    """The config's test pipeline, without ``LoadAnnotations`` when there is no label file."""
    pipeline = dataset_config(cfg).get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise ValueError('the config has no test pipeline (test_dataloader.dataset.pipeline)')
    return Compose([step for step in copy.deepcopy(pipeline)
                    if with_labels or step['type'] not in ('LoadAnnotations', 'mmseg.LoadAnnotations')])


@dataclass
class TapMaps:
    """The tensors one distillation loss compares, for one image.

    Attributes:
        loss_name: the ``distill_losses`` entry.
        taps: ``(student tap text, teacher tap text)``.
        student / teacher: the recorded tensors of the image, e.g. (C, h, w).
        compared: the pictures of what the loss compares (:func:`compared_maps`).
    """
    loss_name: str
    taps: Tuple[str, str]
    student: torch.Tensor
    teacher: torch.Tensor
    compared: ComparedMaps


@dataclass
class TeacherStudentOutputs:
    """Everything drawn for one image.

    Attributes:
        image: (H, W, 3) uint8 RGB, as read from disk.
        gt: (H, W) label map, or None.
        teacher_pred / student_pred: (H, W) predicted labels at the image's size.
        teacher_logits / student_logits: (K, H, W) logits at the image's size.
        tap_maps: the tapped tensors of every distillation loss.
    """
    image: np.ndarray
    gt: Optional[np.ndarray]
    teacher_pred: np.ndarray
    student_pred: np.ndarray
    teacher_logits: torch.Tensor
    student_logits: torch.Tensor
    tap_maps: List[TapMaps] = field(default_factory=list)


@torch.no_grad()
def run_teacher_and_student(distiller: SegDistiller, pipeline: Compose, info: dict, classes: Sequence[str] = (),
                            class_index: Optional[int] = None) -> TeacherStudentOutputs:
    """Predict one image with teacher and student, record the distillation losses' taps and picture what each
    loss compares.

    Args:
        distiller: the distiller in eval mode (:func:`load_distiller`).
        pipeline: the config's test pipeline (:func:`inference_pipeline`).
        info: the image's data info (``img_path``, and ``seg_map_path`` for its ground truth).
        classes: the dataset's class names, for the class pictures' titles.
        class_index: the class the pictures of class distributions show; None: the teacher's most predicted.
    """
    data = pipeline(copy.deepcopy(info))
    batch = distiller.data_preprocessor(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
                                        False)
    inputs, samples = batch['inputs'], batch['data_samples']
    teacher = distiller.teacher.predict(inputs, copy.deepcopy(samples))[0]
    student = distiller.student.predict(inputs, copy.deepcopy(samples))[0]
    recorded = {}
    for network, recorder in (('student', distiller.student_recorder), ('teacher', distiller.teacher_recorder)):
        with recorder.recording():
            forward_for_taps(getattr(distiller, network), inputs, [tap.module for tap in recorder.taps])
        recorded[network] = {tap: recorder.get(tap)[0].float().clone() for tap in recorder.taps}
        recorder.clear()
    tap_maps = []
    for name, term in distiller.terms.items():
        tapped_student = recorded['student'][term.taps['student']]
        tapped_teacher = recorded['teacher'][term.taps['teacher']]
        compared = term.loss.refine_student(tapped_student[None])
        if term.connector is not None:
            compared = term.connector(compared, tapped_teacher.shape[-2:])
        tap_maps.append(TapMaps(name, (str(term.taps['student']), str(term.taps['teacher'])), tapped_student,
                                tapped_teacher, compared_maps(term.loss, compared[0], tapped_teacher, classes,
                                                              class_index)))
    gt = data['data_samples'].gt_sem_seg.data[0].numpy() if 'gt_sem_seg' in data['data_samples'] else None
    return TeacherStudentOutputs(
        image=mmcv.imread(info['img_path'], channel_order='rgb'), gt=gt,
        teacher_pred=teacher.pred_sem_seg.data[0].numpy(), student_pred=student.pred_sem_seg.data[0].numpy(),
        teacher_logits=teacher.seg_logits.data, student_logits=student.seg_logits.data, tap_maps=tap_maps)
