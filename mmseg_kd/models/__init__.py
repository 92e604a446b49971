"""The papers' own architectures as mmseg modules, and converters for the papers' released checkpoints.

Only what mmseg 1.x cannot express with a config option lives here (backbone options, heads); each module is
registered in mmseg's ``MODELS`` and named for what it computes. ``converters`` maps the authors' state dicts
onto these models' keys (see docs/model_converters.md).

Layering: depends on ``mmseg_kd.registry`` and ``mmseg_kd.checkpoint`` only; ``losses`` and everything above
may use it.
"""
from mmseg_kd.models import backbones, decode_heads  # noqa: F401  (registers the modules)
