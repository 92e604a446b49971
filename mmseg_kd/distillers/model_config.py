"""Resolve the ``student=`` / ``teacher=`` entries of a distiller config into mmseg model configs."""
from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config

# Keys of a student/teacher entry that are not part of the model config itself.
ENTRY_KEYS = ('cfg_path', 'cfg_options', 'checkpoint', 'allow_unsafe_checkpoint', 'autocast_dtype',
              'channels_last', 'bn_train', 'loss_weight_schedule')


def resolve_model_config(entry: dict, role: str) -> ConfigDict:
    """The mmseg model config named by a distiller's ``student``/``teacher`` entry.

    Accepted forms:

    * ``dict(cfg_path='mmseg::pspnet/....py')`` or a local config path: that file's ``model``;
    * ``dict(model=dict(type='EncoderDecoder', ...))``: an inline model config;
    * ``dict(type='EncoderDecoder', ...)``: the entry is itself the model config.

    ``cfg_options`` (dotted keys, as ``--cfg-options`` of the tools) are merged into the loaded config
    first, e.g. ``cfg_options={'model.backbone.norm_cfg.type': 'BN'}``.
    """
    if not isinstance(entry, dict):
        raise TypeError(f"{role} must be a dict such as dict(cfg_path='mmseg::...'), got {entry!r}")
    if 'cfg_path' in entry:
        path = entry['cfg_path']
        try:
            config = get_config(path) if '::' in path else Config.fromfile(path)
        except FileNotFoundError as error:
            raise FileNotFoundError(
                f"{role}.cfg_path {entry['cfg_path']!r} was not found ({error}). Give a local config file "
                "or an mmseg reference such as 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'"
            ) from error
    elif 'model' in entry:
        config = Config(dict(model=entry['model']))
    elif 'type' in entry:
        config = Config(dict(model={k: v for k, v in entry.items() if k not in ENTRY_KEYS}))
    else:
        raise ValueError(f"{role} needs cfg_path='...', model=dict(...) or an inline model dict with 'type'; "
                         f'got keys {sorted(entry)}')
    if entry.get('cfg_options'):
        config.merge_from_dict(entry['cfg_options'])
    if 'model' not in config:
        raise ValueError(f"{role} config {entry.get('cfg_path')!r} defines no 'model'")
    return config.model
