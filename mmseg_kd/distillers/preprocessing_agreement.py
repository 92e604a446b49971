"""Whether the teacher can take the batch the distiller preprocessed: the effective settings of both sides compared.

The teacher runs on the distiller's preprocessed batch, not on its own preprocessor's output, so the settings that
change the pixel values it sees must agree with those it was trained with: the normalisation (``mean``/``std``) and
the channel order (``bgr_to_rgb``/``rgb_to_bgr``). Each side is compared with its preprocessor class's defaults
filled in: a config that leaves ``mean``/``std`` out does not normalise, one that leaves ``bgr_to_rgb`` out keeps the
loaded (BGR) order, and a network config without any ``data_preprocessor`` gets mmengine's ``BaseDataPreprocessor``,
which does neither. So a teacher config that omits a key is compared as what it is, not skipped.
"""
import inspect
from typing import Optional

from mmengine.registry import MODELS

# The settings that change the pixel values the network sees.
NORMALISATION_KEYS = ('mean', 'std')
CHANNEL_ORDER_KEYS = ('bgr_to_rgb', 'rgb_to_bgr')


def preprocessor_defaults(preprocessor_type) -> dict:
    """The defaults of ``mean``, ``std``, ``bgr_to_rgb`` and ``rgb_to_bgr`` of a preprocessor class (by registered
    name or class); a class without such an argument does not normalise or swap channels (``None``/``False``)."""
    defaults = dict(mean=None, std=None, bgr_to_rgb=False, rgb_to_bgr=False)
    if isinstance(preprocessor_type, str):
        with MODELS.switch_scope_and_registry('mmseg') as registry:
            preprocessor_type = registry.get(preprocessor_type)
    if isinstance(preprocessor_type, type):
        for name, parameter in inspect.signature(preprocessor_type.__init__).parameters.items():
            if name in defaults and parameter.default is not inspect.Parameter.empty:
                defaults[name] = parameter.default
    return defaults


def effective_preprocessing(preprocessor: Optional[dict]) -> dict:
    """What a ``data_preprocessor`` config does to the pixels: ``{'mean': [..] | None, 'std': [..] | None,
    'swaps_channels': bool}`` (``None`` config: mmengine's ``BaseDataPreprocessor``, no normalisation, no swap)."""
    preprocessor = dict(preprocessor or dict(type='BaseDataPreprocessor'))
    settings = dict(preprocessor_defaults(preprocessor.get('type', 'SegDataPreProcessor')), **preprocessor)
    effective = {key: None if settings[key] is None else [float(value) for value in settings[key]]
                 for key in NORMALISATION_KEYS}
    effective['swaps_channels'] = bool(settings['bgr_to_rgb'] or settings['rgb_to_bgr'])
    return effective


def _described(key: str, value) -> str:
    if key == 'swaps_channels':
        return 'swaps BGR/RGB' if value else 'keeps the channel order'
    return 'none (no normalisation)' if value is None else str(value)


def preprocessing_problem(ours: Optional[dict], teacher_preprocessor: Optional[dict]) -> str:
    """Why the teacher cannot take the batch preprocessed by ``ours`` ('' when it can).

    Args:
        ours: the distiller's ``data_preprocessor`` config (``None``: mmengine's default, no normalisation).
        teacher_preprocessor: the teacher's own ``data_preprocessor`` config (``None``: its config has none).
    """
    mine, its = effective_preprocessing(ours), effective_preprocessing(teacher_preprocessor)
    differences = [f'{key}: teacher {_described(key, its[key])}, distiller {_described(key, mine[key])}'
                   for key in mine if mine[key] != its[key]]
    if not differences:
        return ''
    source = ('its config has no data_preprocessor, so it was trained on unnormalised images in the loaded order'
              if teacher_preprocessor is None else 'defaults filled in on both sides')
    return (f"teacher and student preprocess images differently ({'; '.join(differences)}; {source}); the teacher "
            "receives the student's preprocessed batch. Give SegDistiller a data_preprocessor matching the teacher, "
            "or give the teacher's config the data_preprocessor it was trained with.")
