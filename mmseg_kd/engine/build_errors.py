"""Build errors that point at a config entry: an unknown constructor keyword, an entry without ``type``.

mmengine builds every part of a run from the config (the runner's loops, hooks, model, optimizer, schedulers, data,
and inside a distiller the student's and teacher's own configs) by calling the registered class with the entry's
keys. A misspelt key ends in a bare ``TypeError: ResNet.__init__() got an unexpected keyword argument 'dept'``, and an
entry without ``type`` in ``KeyError: `cfg` or `default_args` must contain the key "type"``, neither saying which
entry. :func:`explained_build_errors` wraps the building (``tools/train.py``, ``tools/test.py``) and turns both into a
:class:`ConfigEntryError` that names the entry (for the student's or teacher's own config: which one, and its file),
the class and the closest keyword it takes. One mechanism for every place a config entry is built; an error it cannot
trace to an entry of the config propagates unchanged.
"""
import ast
import contextlib
import re
from typing import Any, Iterator, List, Optional, Tuple

from mmengine.config import Config
from torch.utils.data import DataLoader

from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.utils.config_keys import accepted_keywords, closest, listing, registered_class
from mmseg_kd.utils.user_input_error import UserInputError

UNEXPECTED_KEYWORD = re.compile(r"(?:(?P<owner>[\w.]+)\(\) )?got an unexpected keyword argument '(?P<key>\w+)'")
MISSING_TYPE = re.compile(r'must contain the key "type", but got (?P<entry>.*)\n', re.DOTALL)
# Entries without ``type`` that the runner passes to a class itself: a dataloader's keys go to torch's DataLoader
# (besides those the runner takes out first).
RUNNER_BUILT = {'_dataloader': (DataLoader, ('dataset', 'sampler', 'batch_sampler', 'collate_fn', 'worker_init_fn'))}


class ConfigEntryError(UserInputError, TypeError):
    """A config entry that its class cannot be built from (an unknown keyword, no ``type``)."""


def config_trees(cfg: Config) -> Iterator[Tuple[str, Any]]:
    """``(label, tree)`` of the run's config and, for a distiller, of the student's and teacher's own model configs
    (label e.g. ``"the student's config mmseg::pspnet/....py"``)."""
    tree = cfg.to_dict()
    model = tree.get('model')
    networks = []
    for role in ('student', 'teacher'):
        entry = model.get(role) if isinstance(model, dict) else None
        if not isinstance(entry, dict):
            continue
        try:
            network = resolve_model_config(entry, role)
        except Exception:  # its own error is raised by the build itself
            continue
        source = entry.get('cfg_path', f'model.{role}, inline')
        networks.append((f"the {role}'s config {source}", dict(model=network.to_dict())))
        model[role] = {key: value for key, value in entry.items() if key in ('cfg_path', 'cfg_options')}
    yield '', tree
    yield from networks


def entries(tree: Any, path: Tuple[str, ...] = ()) -> Iterator[Tuple[Tuple[str, ...], dict]]:
    """Every dict of ``tree`` with the keys leading to it."""
    if isinstance(tree, dict):
        yield path, tree
        for key, value in tree.items():
            yield from entries(value, path + (str(key),))
    elif isinstance(tree, (list, tuple)):
        for index, value in enumerate(tree):
            yield from entries(value, path + (str(index),))


def entry_class(path: Tuple[str, ...], entry: dict) -> Tuple[Any, Tuple[str, ...]]:
    """The class an entry is built into and the keys its builder takes out first (``(None, ())``: unknown)."""
    if 'type' in entry:
        return registered_class(entry['type'], path), ()
    for suffix, (target, taken) in RUNNER_BUILT.items():
        if len(path) == 1 and path[0].endswith(suffix):
            return target, taken
    return None, ()


def where(label: str, path: Tuple[str, ...]) -> str:
    """``model.backbone``, or ``model.backbone of the student's config ...``."""
    dotted = '.'.join(path) or 'the config'
    return f'{dotted} of {label}' if label else dotted


def unknown_keyword_message(cfg: Config, owner: Optional[str], key: str) -> Optional[str]:
    """The entries holding ``key`` whose class (or a base of it named ``owner``) refuses it; ``None`` if none."""
    owner_name = owner.split('.')[-2] if owner and '.' in owner else None  # 'ResNet.__init__' -> 'ResNet'
    if owner and '.' not in owner and owner != '__init__':  # a function
        owner_name = owner
    found: List[str] = []
    for label, tree in config_trees(cfg):
        for path, entry in entries(tree):
            if key not in entry:
                continue
            target, taken = entry_class(path, entry)
            if target is None:
                continue
            names = [klass.__name__ for klass in getattr(target, '__mro__', (target,))]
            keywords = accepted_keywords(target)
            if (owner_name is not None and owner_name not in names) or keywords is None or key in keywords:
                continue
            keywords = sorted(set(keywords) | set(taken))
            found.append(f'{where(label, path)}: {key!r} is not a keyword of {target.__name__}'
                         f'{closest(key, keywords)}. Its keywords: {listing(keywords)}')
    if not found:
        return None
    return 'a config entry has a key its class does not take:\n  ' + '\n  '.join(found)


def _same_entry(entry: dict, shown: str) -> bool:
    if str(entry) == shown:
        return True
    try:
        return ast.literal_eval(shown) == entry
    except (ValueError, SyntaxError):
        return False


def missing_type_message(cfg: Config, shown: str) -> Optional[str]:
    """The entry without ``type`` that mmengine printed as ``shown``, with the typed entries of the same name
    elsewhere as examples; ``None`` if the config holds no such entry."""
    found, examples = [], []
    for label, tree in config_trees(cfg):
        for path, entry in entries(tree):
            if 'type' not in entry and path and _same_entry(entry, shown):
                found.append((label, path))
    names = {path[-1] for _, path in found}
    for label, tree in config_trees(cfg):
        for path, entry in entries(tree):
            if 'type' in entry and path and path[-1] in names:
                examples.append(f"{where(label, path)} has type={entry['type']!r}")
    if not found:
        return None
    lines = [f"{where(label, path)} = {shown} has no 'type'. It is built from a registry, so it needs one; an "
             'entry without type is not merged into a default entry, it replaces it: give the whole entry, with '
             'its type and every setting' for label, path in found]
    if examples:
        lines.append('for example, ' + '; '.join(dict.fromkeys(examples)))
    return '\n  '.join(lines)


def explanation(cfg: Config, error: BaseException) -> Optional[str]:
    """The message naming the config entry behind ``error`` (``None``: not a build error of a config entry)."""
    text = error.args[0] if error.args and isinstance(error.args[0], str) else ''
    if isinstance(error, TypeError):
        match = UNEXPECTED_KEYWORD.search(text)
        if match:
            return unknown_keyword_message(cfg, match.group('owner'), match.group('key'))
    if isinstance(error, KeyError):
        match = MISSING_TYPE.search(text)
        if match:
            return missing_type_message(cfg, match.group('entry'))
    return None


@contextlib.contextmanager
def explained_build_errors(cfg: Config) -> Iterator[None]:
    """Run the building of ``cfg``'s parts (``Runner.from_cfg``, ``runner.train()``) with its build errors traced to
    their config entries.

    Raises:
        ConfigEntryError: an entry's class refuses one of its keys, or an entry has no ``type``.
    """
    try:
        yield
    except (TypeError, KeyError) as error:
        message = explanation(cfg, error)
        if message is None:
            raise
        raise ConfigEntryError(message) from error
