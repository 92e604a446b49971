"""Resolve the ``student=`` / ``teacher=`` entries of a distiller config into mmseg model configs."""
import difflib

from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config

from mmseg_kd.checkpoint.sha256 import expected_sha256
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.user_input_error import UserInputError, UserInputTypeError

# Keys of a student/teacher entry that are not part of the model config itself, per role.
ROLE_ENTRY_KEYS = {
    'student': ('cfg_path', 'cfg_options', 'loss_weight_schedule'),
    'teacher': ('cfg_path', 'cfg_options', 'checkpoint', 'checkpoint_sha256', 'checkpoint_cache_dir',
                'allow_unsafe_checkpoint', 'autocast_dtype', 'channels_last', 'bn_train', 'cache'),
}
ENTRY_KEYS = tuple(dict.fromkeys(ROLE_ENTRY_KEYS['student'] + ROLE_ENTRY_KEYS['teacher']))
# Switches of an entry: True or False only (a string such as 'False' would count as yes).
BOOLEAN_ENTRY_KEYS = ('allow_unsafe_checkpoint', 'channels_last', 'bn_train')


def check_entry_settings(entry: dict, role: str) -> None:
    """Check the values of a ``student``/``teacher`` entry's own keys (:data:`ENTRY_KEYS`) before anything is built.

    * switches (:data:`BOOLEAN_ENTRY_KEYS`) are ``True`` or ``False``, not strings, numbers or ``None``;
    * ``checkpoint``, ``checkpoint_cache_dir`` and ``cache`` are strings or ``None``; ``checkpoint_sha256`` is 8 to
      64 hex digits (it stays unused when ``checkpoint=None`` asks for a random teacher, as config checks do);
    * an entry holds only its own role's keys (:data:`ROLE_ENTRY_KEYS`): ``teacher.loss_weight_schedule`` or
      ``student.bn_train`` would otherwise be silently ignored;
    * an entry that names its model by ``cfg_path`` or ``model`` has no other keys: a misspelt one (say
      ``checkpoint_sha``) would otherwise be ignored, and with it the check it asks for.

    Args:
        entry: the ``student=`` or ``teacher=`` dict.
        role: ``'student'`` or ``'teacher'``.

    Raises:
        TypeError: a value of the wrong type.
        ValueError: a malformed hash or an unknown key.
    """
    for key in BOOLEAN_ENTRY_KEYS:
        if key in entry and not isinstance(entry[key], bool):
            raise UserInputTypeError(
                f'{role}.{key} must be True or False, got {entry[key]!r} ({type(entry[key]).__name__}); write it '
                f'without quotes, e.g. {role}=dict(..., {key}=False)')
    for key in ('checkpoint', 'checkpoint_cache_dir', 'cache'):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            raise UserInputTypeError(
                f'{role}.{key} must be a string or None, got {entry[key]!r} ({type(entry[key]).__name__})')
    expected_sha256(entry.get('checkpoint_sha256'), f'{role}.checkpoint_sha256')
    own_keys = ROLE_ENTRY_KEYS[role]
    misplaced = sorted(set(entry) & (set(ENTRY_KEYS) - set(own_keys)))
    if misplaced:
        other = next(name for name in ROLE_ENTRY_KEYS if name != role)
        raise UserInputError(f'{role}.{misplaced[0]} is a setting of the {other} entry, and the {role} would ignore '
                             f'it; move it to {other}=dict(...) or remove it. The {role} entry takes '
                             f"{', '.join(('model',) + own_keys)}")
    if 'cfg_path' in entry or 'model' in entry:
        unknown = sorted(set(entry) - set(own_keys) - {'model'})
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, own_keys, n=1)
            hint = f'did you mean {close[0]!r}? ' if close else ''
            raise UserInputError(f'{role} has an unknown key {key!r}; {hint}the keys of a {role} entry that names its '
                                 f"model by cfg_path or model are {', '.join(('model',) + own_keys)}")


def resolve_model_config(entry: dict, role: str) -> ConfigDict:
    """The mmseg model config named by a distiller's ``student``/``teacher`` entry (``role``).

    Accepted forms:

    * ``dict(cfg_path='mmseg::pspnet/....py')`` or a local config path: that file's ``model``;
    * ``dict(model=dict(type='EncoderDecoder', ...))``: an inline model config;
    * ``dict(type='EncoderDecoder', ...)``: the entry is itself the model config.

    ``cfg_options`` (dotted keys, as ``--cfg-options`` of the tools) are merged into the loaded config
    first, e.g. ``cfg_options={'model.backbone.norm_cfg.type': 'BN'}``.
    """
    if not isinstance(entry, dict):
        raise UserInputTypeError(f"{role} must be a dict such as dict(cfg_path='mmseg::...'), got {entry!r}")
    check_entry_settings(entry, role)
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
        config = Config(dict(model={k: v for k, v in entry.items() if k not in ROLE_ENTRY_KEYS[role]}))
    else:
        raise UserInputError(f"{role} needs cfg_path='...', model=dict(...) or an inline model dict with 'type'; "
                         f'got keys {sorted(entry)}')
    if entry.get('cfg_options'):
        options, source = dict(entry['cfg_options']), entry.get('cfg_path', 'the inline model')
        unused = [key for key in options if key.split('.')[0] != 'model']
        if unused:
            raise UserInputError(f"{role}.cfg_options: only the 'model' of {source} is used, so "
                                 f"{', '.join(map(repr, unused))} would change nothing; give keys such as "
                                 "'model.backbone.depth'")
        merge_checked_options(config, options, f'{role}.cfg_options (merged into {source})', top_level=())
    if 'model' not in config:
        raise UserInputError(f"{role} config {entry.get('cfg_path')!r} defines no 'model'")
    return config.model
