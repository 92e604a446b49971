"""mmseg-kd: knowledge distillation for semantic segmentation on mmsegmentation 1.x.

Importing the package registers the distiller, the losses, the loss-weight schedules, the checked loading steps and
the transform of unlabeled images in mmseg's registries, and allow-lists the few mmengine/numpy types of training
checkpoints for torch's weights-only loading (so ``--resume`` works on torch >= 2.6 with safe loading left on).

It also silences one warning, here and nowhere else: mmengine resolves every ``mmseg::`` config reference
through ``pkg_resources`` (``mmengine.utils.package_utils.is_installed`` imports and re-imports it), which is
why setuptools stays below 81, and setuptools then warns "pkg_resources is deprecated as an API" at each
lookup (4 to 8 times per tool start). Only that message is filtered; every other warning still shows.
mmseg's own start-up warnings (``build_loss`` deprecation, ``avg_non_ignore``, ``FileClient``) go to the run's log
file, once, and not to the console (:mod:`mmseg_kd.utils.known_mmseg_warnings`).

And it makes mmengine resolve ``mmseg::`` config references and format a config's text from memory after the first
time (the one patch of a third-party package, :mod:`mmseg_kd.utils.mmengine_config_cache`, where the reason and the
checks are).
"""
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated as an API', category=UserWarning)

from mmseg_kd.utils.known_mmseg_warnings import route_known_mmseg_warnings_to_log_file  # noqa: E402

route_known_mmseg_warnings_to_log_file()

from mmseg_kd.utils.mmengine_config_cache import install_mmengine_config_cache  # noqa: E402

install_mmengine_config_cache()

# Registers the modules (in mmseg's MODELS, TRANSFORMS, HOOKS registries and WEIGHT_SCHEDULES).
from mmseg_kd import datasets, distillers, engine, layers, losses, models, schedules  # noqa: E402,F401
from mmseg_kd.checkpoint import allow_mmengine_checkpoint_types  # noqa: E402

__version__ = '0.1.0'

allow_mmengine_checkpoint_types()
