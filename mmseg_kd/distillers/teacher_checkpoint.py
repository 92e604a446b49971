"""Load the teacher's trained weights named by the distiller's ``teacher=dict(checkpoint=...)`` entry."""
import warnings

from mmengine.logging import print_log
from torch import nn

from mmseg_kd.checkpoint.download import download_checkpoint, is_url
from mmseg_kd.checkpoint.safe_loading import extract_state_dict, load_checkpoint_file, load_state_dict_strictly
from mmseg_kd.checkpoint.sha256 import expected_sha256


def load_teacher_checkpoint(teacher: nn.Module, entry: dict) -> None:
    """Copy the weights of ``entry['checkpoint']`` into ``teacher``, strictly (every key, every shape).

    ``checkpoint`` is a local path or an http(s) URL. A URL is downloaded once into the cache folder
    (``checkpoint_cache_dir``, torch hub's by default) and reused from there; ``checkpoint_sha256`` (the whole
    SHA-256 or its first 8 or more hex digits) is checked against the download, the cached copy or the local file.
    ``checkpoint=None`` leaves PyTorch's default initialisation and warns loudly: a random teacher is for tests and
    config checks only. The file is read with ``weights_only=True`` unless ``allow_unsafe_checkpoint=True``.
    """
    checkpoint = entry.get('checkpoint')
    where = entry.get('cfg_path', 'the inline teacher config')
    sha256 = expected_sha256(entry.get('checkpoint_sha256'), 'teacher.checkpoint_sha256')
    if checkpoint is None:
        message = ('teacher.checkpoint is None: the TEACHER IS RANDOMLY INITIALISED. Distilling from it '
                   'teaches the student noise; this is for tests and config checks only.')
        warnings.warn(message, stacklevel=4)
        print_log(message, logger='current', level=30)
        return  # PyTorch's default initialisation: no init_weights (slow, may fetch pretrained weights)
    allow_unsafe = entry.get('allow_unsafe_checkpoint', False)
    if is_url(checkpoint):
        path = download_checkpoint(checkpoint, sha256=sha256, cache_dir=entry.get('checkpoint_cache_dir'),
                                   what='teacher checkpoint')
        raw = load_checkpoint_file(path, what='teacher checkpoint', allow_unsafe=allow_unsafe)
    else:
        raw = load_checkpoint_file(checkpoint, what='teacher checkpoint', allow_unsafe=allow_unsafe, sha256=sha256)
    state_dict = extract_state_dict(raw, what=f'teacher checkpoint {checkpoint!r}')
    load_state_dict_strictly(teacher, state_dict, what=f'teacher checkpoint {checkpoint!r}', config_hint=where)
    print_log(f'teacher weights loaded from {checkpoint} ({len(state_dict)} tensors)', logger='current')
