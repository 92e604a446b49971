"""Put a distillation config's teacher checkpoint into the download cache ahead of training, or check it is there.

    python tools/fetch_teacher.py CONFIG [--check] [--cfg-options KEY=VALUE ...]

For a teacher given by URL (``teacher=dict(checkpoint='https://...', checkpoint_sha256=...)``) this downloads the
file into the cache folder (``teacher.checkpoint_cache_dir``, torch hub's by default) and checks its SHA-256, as
training would: run it once on a machine with internet access, or before starting many processes. ``--check``
downloads nothing: it says where the file must be and whether it is there with the configured hash, e.g. after
you copied it onto a machine without internet access. For a teacher given by a local path, both report whether
that file exists (and has the configured hash). A file without a configured hash is read as the distiller would read
it, so that a cut copy or a saved error page is not reported as OK. Exit status 1 when the teacher's file is missing
or wrong.
"""
import argparse
import os.path as osp
import sys
from typing import Optional

from mmengine.config import Config, DictAction

from mmseg_kd.checkpoint.download import (
    CheckpointDownloadError,
    NotACheckpointError,
    cache_path,
    download_checkpoint,
    is_url,
)
from mmseg_kd.checkpoint.safe_loading import extract_state_dict, load_checkpoint_file
from mmseg_kd.checkpoint.sha256 import ChecksumMismatchError, expected_sha256, file_sha256, sha256_matches
from mmseg_kd.distillers.model_config import check_entry_settings
from mmseg_kd.utils.config_keys import merge_checked_options
from mmseg_kd.utils.user_input_error import UserFileError


def file_status(path: str, sha256: Optional[str], allow_unsafe: bool = False) -> str:
    """``''`` when ``path`` is a file with the expected hash, or, when no hash is configured, a complete checkpoint
    that loads as the teacher's would (``allow_unsafe``: the entry's ``allow_unsafe_checkpoint``); else what is
    wrong."""
    if not osp.isfile(path):
        return 'missing'
    if sha256 is None:
        try:
            extract_state_dict(load_checkpoint_file(path, what='teacher checkpoint', allow_unsafe=allow_unsafe),
                               what=f'teacher checkpoint {path!r}')
        except UserFileError as error:
            return f'not a usable checkpoint: {error}'
        return ''
    actual = file_sha256(path)
    return '' if sha256_matches(actual, sha256) else f'wrong file: its sha256 {actual} does not start with {sha256}'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Download a distillation config's teacher checkpoint into the "
                                                 'cache, or check that it is there')
    parser.add_argument('config', help='a distillation config (model.type SegDistiller)')
    parser.add_argument('--check', action='store_true', help='download nothing; report the file and exit 1 if it '
                                                             'is missing or wrong')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries, e.g. model.teacher.checkpoint_cache_dir=/data/teachers')
    args = parser.parse_args(argv)

    config = Config.fromfile(args.config)
    merge_checked_options(config, args.cfg_options)
    teacher = config.model.teacher
    check_entry_settings(teacher, 'teacher')
    checkpoint = teacher.get('checkpoint')
    if checkpoint is None:
        print('teacher.checkpoint is None: the config names no teacher weights')
        return 1
    sha256 = expected_sha256(teacher.get('checkpoint_sha256'), 'teacher.checkpoint_sha256')
    allow_unsafe = teacher.get('allow_unsafe_checkpoint', False)
    print(f'teacher checkpoint: {checkpoint}')
    print(f"expected sha256: {f'starts with {sha256}' if sha256 else 'not configured (checkpoint_sha256)'}")
    if not is_url(checkpoint):
        problem = file_status(checkpoint, sha256, allow_unsafe)
        print(f'local file: {checkpoint}: {problem or "OK"}')
        return 1 if problem else 0
    path = cache_path(checkpoint, teacher.get('checkpoint_cache_dir'))
    print(f'cache file: {path}')
    if not args.check:
        try:
            download_checkpoint(checkpoint, sha256=sha256, cache_dir=teacher.get('checkpoint_cache_dir'),
                                what='teacher checkpoint')
        except (CheckpointDownloadError, ChecksumMismatchError, NotACheckpointError) as error:
            print(error)
            return 1
    problem = file_status(path, sha256, allow_unsafe)
    if problem:
        print(f'{problem}: download {checkpoint} on a machine with internet access and place it at {path}')
        return 1
    print('OK: the teacher checkpoint is in the cache')
    return 0


if __name__ == '__main__':
    sys.exit(main())
