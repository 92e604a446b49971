"""SHA-256 checks of checkpoint files: a full hash or a prefix of one, as model-zoo file names carry.

OpenMMLab's published checkpoints end their file names with the first 8 hex digits of the file's SHA-256
(``pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth``), as torch hub's do. A prefix
catches a truncated, corrupted or wrong file; only the full 64-digit hash also protects against a file
crafted to match.
"""
import hashlib
import re
from typing import Optional

from mmseg_kd.utils.user_input_error import UserFileError

SHA256_PATTERN = re.compile(r'[0-9a-f]{8,64}')
CHUNK_BYTES = 1 << 20


class ChecksumMismatchError(UserFileError):
    """A checkpoint file's SHA-256 does not start with the expected hash."""


def expected_sha256(value: Optional[str], where: str) -> Optional[str]:
    """The expected hash ``value`` in lower case, or ``None``; anything but 8 to 64 hex digits is an error.

    Args:
        value: the configured hash (``None`` when the config gives none).
        where: the config key that holds it, for the error message (e.g. ``'teacher.checkpoint_sha256'``).

    Raises:
        ValueError: ``value`` is not a string of 8 to 64 hexadecimal digits.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not SHA256_PATTERN.fullmatch(value.lower()):
        raise ValueError(
            f'{where} must be the SHA-256 of the file in hexadecimal, whole (64 digits) or its first 8 or more '
            f"digits (as the '-e1e1100f' that ends an OpenMMLab model-zoo file name); got {value!r}")
    return value.lower()


def file_sha256(path: str) -> str:
    """The SHA-256 of the file at ``path``, as 64 lower-case hex digits."""
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b''):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_matches(actual: str, expected: str) -> bool:
    """Whether the full hash ``actual`` starts with the (possibly shortened) hash ``expected``."""
    return actual.startswith(expected.lower())


def mismatch_message(what: str, path: str, actual: str, expected: str) -> str:
    """The error text for a file whose hash ``actual`` does not start with ``expected``."""
    return (f'{what} {path!r} has SHA-256 {actual}, but the config expects one starting with {expected}. '
            'The file is truncated, corrupted or not the one the config names.')


def check_file_sha256(path: str, expected: str, *, what: str = 'checkpoint') -> None:
    """Raise :class:`ChecksumMismatchError` unless the SHA-256 of ``path`` starts with ``expected``."""
    actual = file_sha256(path)
    if not sha256_matches(actual, expected):
        raise ChecksumMismatchError(
            mismatch_message(what, path, actual, expected)
            + ' Replace it with the right file, or correct checkpoint_sha256 if the file is the one you mean.')
