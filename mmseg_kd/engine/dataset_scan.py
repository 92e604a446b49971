"""A full scan of a dataset's files, on request: every image and label map loaded once with the checked steps.

Training and evaluation check each sample where it is loaded (:mod:`mmseg_kd.datasets.checked_loading`) and stop at
the first bad file. :func:`scan_dataloader` runs each loading step of a dataloader's pipeline(s) (checked as the tools
check them; no augmentation) on every sample of its dataset(s) and returns every problem, so that a new or converted
dataset can be checked in one pass (``tools/analysis/check_dataset.py``).
"""
import copy
from dataclasses import dataclass, field
from typing import Iterator, List

from mmengine.config import Config
from mmseg.registry import DATASETS

from mmseg_kd.datasets.checked_loading import BadDataError
from mmseg_kd.datasets.dataset_configs import DEFAULT_IGNORE_INDEX, dataset_class_count, leaf_datasets
from mmseg_kd.engine.data_checks import CHECKED_STEPS, checked_step
from mmseg_kd.utils.progress import track_progress


@dataclass
class ScanResult:
    """What a scan found.

    Attributes:
        samples: how many samples (image and label map) were loaded.
        problems: one message per bad file, each naming the file.
    """
    samples: int = 0
    problems: List[str] = field(default_factory=list)


def loading_steps(pipeline) -> Iterator[dict]:
    """The checked loading steps of a pipeline, in order (also those inside steps holding ``transforms``)."""
    for step in pipeline:
        if isinstance(step, (list, tuple)):
            yield from loading_steps(step)
        elif isinstance(step, dict):
            if step.get('type') in CHECKED_STEPS.values():
                yield step
            if isinstance(step.get('transforms'), (list, tuple)):
                yield from loading_steps(step['transforms'])


def scan_dataloader(cfg: Config, loader: str, progress: bool = True) -> ScanResult:
    """Load every sample of ``cfg[loader]``'s dataset(s) and collect the problems of their files.

    Args:
        cfg: a training config (or any config with that dataloader).
        loader: ``'train_dataloader'``, ``'val_dataloader'`` or ``'test_dataloader'``.
        progress: draw a progress bar.
    """
    result = ScanResult()
    for _, dataset_cfg in leaf_datasets(copy.deepcopy(cfg[loader]['dataset'])):
        pipeline = checked_step(list(dataset_cfg.get('pipeline') or []), dataset_class_count(dataset_cfg),
                                dataset_cfg.get('ignore_index', DEFAULT_IGNORE_INDEX))
        dataset = DATASETS.build(dict(dataset_cfg, pipeline=list(loading_steps(pipeline))))
        for index in track_progress(range(len(dataset)), total=len(dataset), enabled=progress,
                                    description=f'{loader}: loading {len(dataset)} samples'):
            sample = dataset.get_data_info(index)
            image_shape = {}
            for step in dataset.pipeline.transforms:  # each file on its own: a bad image hides no bad label
                try:
                    loaded = step(dict(copy.deepcopy(sample), **image_shape))
                except BadDataError as error:
                    result.problems.append(str(error))
                    continue
                if loaded and 'ori_shape' in loaded:  # the label map is compared with its image's size
                    image_shape = dict(ori_shape=loaded['ori_shape'])
            result.samples += 1
    return result
