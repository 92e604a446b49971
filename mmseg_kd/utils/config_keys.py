"""Which keys a config entry takes: ``--cfg-options`` keys are checked before they are merged.

mmengine's ``Config.merge_from_dict`` adds any key it is given, so a misspelt ``--cfg-options trian_cfg.max_iters=1``
adds an entry nothing reads and the run trains with the old value. :func:`merge_checked_options` refuses such a key,
with the closest existing one, before merging. The rule, for the first part of a dotted key that the config does not
hold:

* at the top level, the key must be one the runner or the tools read (:data:`TOP_LEVEL_KEYS`, mmengine's ``Runner``
  arguments included); the config's own variables (``crop_size``, ...) exist already;
* inside an entry built from a registry (a dict with ``type``), the key must be a keyword of that class (its
  ``__init__``, and its bases' while ``**kwargs`` passes them on: :func:`accepted_keywords`), or one the builders
  take from such an entry (:data:`BUILDER_KEYS`, :data:`ENTRY_KEYS_BY_PARENT`); a class whose keywords cannot be
  told (``**kwargs`` kept) takes any;
* inside a list, the key must be an index of the list;
* inside a plain dict without ``type`` (``test_cfg``, ``env_cfg.dist_cfg``, a dataloader, a student entry), a new key
  is taken: such dicts are read key by key, and a keyword that ends up passed to a constructor is checked when it is
  built (``mmseg_kd/engine/build_errors.py``);
* below a new key, everything is new content (``model.student.cfg_options.<key>``, a new hook's arguments).

The same check serves a student's or teacher's own ``cfg_options`` (``mmseg_kd/distillers/model_config.py``), where only
``model.*`` keys are used.
"""
import copy
import difflib
import inspect
from typing import Any, Dict, Iterable, List, Optional, Sequence

from mmengine.config import Config
from torch import nn

from mmseg_kd.utils.user_input_error import UserInputError

#: Top-level keys read by mmengine's runner (besides its ``__init__`` arguments) and by mmseg-kd's tools.
TOP_LEVEL_KEYS = ('activation_checkpointing', 'check_data', 'compile', 'compute_budget', 'custom_imports',
                  'efficient_conv_bn_eval', 'find_unused_parameters', 'model_wrapper_cfg', 'runner_type', 'sync_bn',
                  'tta_model', 'tta_pipeline')
#: Keys the builders take out of a registry entry before its class sees the rest (mmengine's optimizer wrapper
#: constructor, parameter schedulers, scope and deletion markers).
BUILDER_KEYS = ('_delete_', '_scope_', 'constructor', 'paramwise_cfg', 'convert_to_iter_based')
#: Keys that the builder of the entries of a dict takes out before the class sees the rest, by that dict's key: a
#: ``distill_losses`` entry's taps and connector (``mmseg_kd/distillers/distill_term.py``).
ENTRY_KEYS_BY_PARENT = {'distill_losses': ('student', 'teacher', 'connector')}
#: The registry a dict with ``type`` is built from, by the nearest enclosing key that names one.
REGISTRY_OF_KEY = {'model': 'MODELS', 'optim_wrapper': 'OPTIM_WRAPPERS', 'optimizer': 'OPTIMIZERS',
                   'param_scheduler': 'PARAM_SCHEDULERS', 'train_cfg': 'LOOPS', 'val_cfg': 'LOOPS',
                   'test_cfg': 'LOOPS', 'dataset': 'DATASETS', 'datasets': 'DATASETS', 'sampler': 'DATA_SAMPLERS',
                   'batch_sampler': 'DATA_SAMPLERS', 'pipeline': 'TRANSFORMS', 'transforms': 'TRANSFORMS',
                   'val_evaluator': 'METRICS', 'test_evaluator': 'METRICS', 'default_hooks': 'HOOKS',
                   'custom_hooks': 'HOOKS', 'visualizer': 'VISUALIZERS', 'vis_backends': 'VISBACKENDS',
                   'log_processor': 'LOG_PROCESSORS'}
#: Every registry searched when the enclosing keys name none, in this order.
REGISTRY_ORDER = ('MODELS', 'DATASETS', 'TRANSFORMS', 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'PARAM_SCHEDULERS', 'LOOPS',
                  'HOOKS', 'METRICS', 'EVALUATOR', 'DATA_SAMPLERS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
                  'TASK_UTILS')
# Classes whose ``__init__`` takes no keyword of a subclass's ``**kwargs``: the end of the chain.
CHAIN_ENDS = (object, nn.Module)


def runner_keys() -> List[str]:
    """The top-level keys of a config that mmengine's runner and mmseg-kd's tools read."""
    from mmengine.runner import Runner
    return sorted(set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'} | set(TOP_LEVEL_KEYS))


def accepted_keywords(target: Any) -> Optional[List[str]]:
    """The keyword arguments ``target`` (a class or a function) takes, or ``None`` when it takes any.

    For a class: its ``__init__``'s, and while an ``__init__`` has ``**kwargs``, those of the next class in the MRO
    that defines one (``ResNetV1c(**kwargs)`` passes them to ``ResNet``); ``None`` when ``**kwargs`` reaches
    ``nn.Module``/``object``, which take none: the class keeps them for something else.
    """
    names: List[str] = []
    functions = ([klass.__dict__['__init__'] for klass in target.__mro__ if '__init__' in klass.__dict__
                  and klass not in CHAIN_ENDS] if isinstance(target, type) else [target])
    for function in functions:
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):  # a builtin without a signature
            return None
        names += [p.name for p in parameters if p.name != 'self' and p.kind in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            return sorted(set(names))
    return None  # **kwargs kept (e.g. EMAHook's, for its averaged model): any keyword may be used


def registered_class(type_value: Any, path: Sequence[str] = ()) -> Any:
    """The class (or function) a config entry's ``type`` names, looked up in the registry its place in the config
    (``path``, the keys leading to it) implies, then in the others; ``None`` when no registry knows it."""
    if not isinstance(type_value, str):
        return type_value if callable(type_value) else None
    from mmseg import registry
    preferred = [REGISTRY_OF_KEY[key] for key in reversed(path) if key in REGISTRY_OF_KEY][:1]
    for name in preferred + [name for name in REGISTRY_ORDER if name not in preferred]:
        found = getattr(registry, name).get(type_value)
        if found is not None:
            return found
    return None


def closest(key: str, candidates: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest candidate (``''`` when none is close)."""
    match = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    return f' (did you mean {match[0]!r}?)' if match else ''


def listing(names: Sequence[str], limit: int = 25) -> str:
    """``names`` as a comma-separated list, cut after ``limit``."""
    names = sorted(names)
    return ', '.join(names[:limit]) + (f', ... ({len(names)} in all)' if len(names) > limit else '')


def option_key_problem(config: Dict, merged: Dict, key: str, top_level: Sequence[str]) -> str:
    """Why the dotted ``key`` names nothing ``config`` reads ('' when it does; see the module docstring).

    Args:
        config: the config before the options are merged (what exists).
        merged: the config after (the ``type`` an entry will have, e.g. when the options change it too).
        key: a dotted key, e.g. ``'model.backbone.depth'`` or ``'param_scheduler.0.end'``.
        top_level: the keys allowed at the top level besides the config's own.
    """
    node, new_node, walked = config, merged, []
    for part in key.split('.'):
        new_node = new_node if isinstance(new_node, (dict, list, tuple)) else {}
        where = '.'.join(walked) or 'the config'
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                return (f'{where} is a list of {len(node)} entries: a key below it must be an index 0..{len(node) - 1}'
                        f', got {part!r}')
            node, new_node = node[int(part)], new_node[int(part)] if int(part) < len(new_node) else {}
        elif isinstance(node, dict):
            if part in node:
                node, new_node = node[part], new_node.get(part) if isinstance(new_node, dict) else {}
            elif part in BUILDER_KEYS or (len(walked) >= 2 and part in ENTRY_KEYS_BY_PARENT.get(walked[-2], ())):
                return ''
            elif not walked:
                if part in top_level:
                    return ''
                return (f'{part!r} is neither a key of the config nor one the runner or the tools read'
                        f'{closest(part, list(config) + list(top_level))}')
            else:
                if not isinstance(new_node, dict) or 'type' not in new_node:
                    return ''
                target = registered_class(new_node['type'], walked)
                keywords = None if target is None else accepted_keywords(target)
                if keywords is None or part in keywords:
                    return ''
                name = getattr(target, '__name__', str(target))
                return (f'{where} ({name}) has no key {part!r}, and {name} takes no such keyword'
                        f'{closest(part, list(node) + keywords)}. Its keywords: {listing(keywords)}')
        else:
            return ''  # below a value that the option replaces: new content
        walked.append(part)
    return ''


def merge_checked_options(cfg: Config, options: Optional[Dict[str, Any]], source: str = '--cfg-options',
                          top_level: Optional[Sequence[str]] = None) -> Config:
    """Merge ``options`` (dotted keys, as ``--cfg-options`` gives them) into ``cfg`` after checking every key.

    Args:
        cfg: the config to merge into (changed in place and returned).
        options: ``{dotted key: value}``; ``None`` or empty merges nothing.
        source: how the message names where the keys come from.
        top_level: the keys allowed at the top level besides the config's own (default :func:`runner_keys`).

    Raises:
        UserInputError: a key names nothing the config reads; every such key is listed with the closest valid one.
    """
    if not options:
        return cfg
    existing = cfg.to_dict()
    merged = copy.deepcopy(cfg)
    try:
        merged.merge_from_dict(copy.deepcopy(dict(options)))  # mmengine pops _delete_ from the values it merges
        merged = merged.to_dict()
    except (KeyError, TypeError):  # mmengine's own refusal; ours, if any, names the key better
        merged = existing
    top_level = runner_keys() if top_level is None else top_level
    problems = [f'{key}: {problem}' for key in options
                if (problem := option_key_problem(existing, merged, key, top_level))]
    if problems:
        raise UserInputError(f'{source}: {len(problems)} key(s) name nothing in the config, and would be added '
                             'without effect (mmengine merges any key):\n  ' + '\n  '.join(problems))
    cfg.merge_from_dict(dict(options))
    return cfg
