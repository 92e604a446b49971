"""The input sizes the tools use by default, from one rule: the size the config trains at.

* the distiller's build-time dry run (``tools/train.py`` fills in ``model.tap_check_input_size``) and
  ``tools/analysis/list_taps.py`` check the taps at ``tap_check_input_size`` when the config gives it, else at the
  training size;
* ``tools/analysis/benchmark.py`` times the steps at the training size, and ``compute_budget`` refuses a step-cost
  record measured at another size.

The training size is the training pipeline's crop, else the data preprocessor's ``size``, else the first training
sample's size (:func:`mmseg_kd.datasets.dataset_configs.training_input_size`).
"""
from typing import Tuple

from mmseg_kd.datasets.dataset_configs import pipeline_crop, training_input_size
from mmseg_kd.distillers.seg_distiller import effective_data_preprocessor, is_distiller_config

Size = Tuple[int, int]


def training_size(cfg) -> Tuple[Size, str]:
    """(H, W) the config trains at, and where it comes from (see the module docstring).

    Raises:
        ValueError: the config gives no way to tell (no crop, no preprocessor size, no readable training sample).
    """
    crop = pipeline_crop((cfg.get('train_dataloader') or {}).get('dataset') or {})
    if crop is not None:  # no need to load the student's config for its preprocessor
        return crop
    return training_input_size(cfg, effective_data_preprocessor(cfg.get('model') or {}))


def dry_run_size(cfg) -> Tuple[Size, str]:
    """(H, W) at which a distillation config's taps are checked, and where it comes from: the distiller's
    ``tap_check_input_size`` when the config gives it, else :func:`training_size`."""
    model = cfg.get('model') or {}
    if model.get('tap_check_input_size') is not None:
        return tuple(model['tap_check_input_size']), 'model.tap_check_input_size'
    return training_size(cfg)


def set_dry_run_input_size(cfg) -> None:
    """Make a distiller check its taps at the training size (``model.tap_check_input_size``, when the config does not
    set it): the check then sees the shapes training will. Left at the distiller's default when the training size
    cannot be told."""
    model = cfg.get('model') or {}
    if not is_distiller_config(model) or model.get('tap_check_input_size') is not None:
        return
    try:
        size, _ = training_size(cfg)
    except ValueError:
        return
    model['tap_check_input_size'] = tuple(size)
