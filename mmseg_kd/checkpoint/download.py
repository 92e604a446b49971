"""Checkpoints named by URL: downloaded once into a cache folder and checked against their SHA-256.

``download_checkpoint(url, sha256=...)`` returns the path of a complete, checked local copy:

* The copy lives at ``<cache folder>/<file name of the URL>``; the cache folder is torch hub's
  (``torch.hub.get_dir()/checkpoints``, i.e. ``$TORCH_HOME/hub/checkpoints``) unless one is given, so a file
  that torch hub or mmengine downloaded before is reused, and a file placed there by hand is used as it is.
* A file under its final name is always complete: the download goes to a hidden temporary file in the same
  folder (``.<name>.<random>.partial``), is checked (announced size, SHA-256, a torch file and not an error
  page), flushed to disk (``fsync``) and only then renamed, atomically, to its final name. A failed or
  refused download deletes its temporary file.
* Several processes at once (the DDP ranks of a node, several jobs sharing a cache): the first takes an
  exclusive lock on ``<name>.lock`` (``fcntl.flock``; the kernel releases it if the process dies) and
  downloads; the others wait for the lock, then find the complete file. One download, one file, no rank
  reads a partial one.
* A cached file whose hash does not match is refused with both hashes. A readable one (an intact torch file:
  most often the right file and a typo in ``checkpoint_sha256``) stays where it is, and the error says how to
  correct the hash or download the file again; a damaged one (cut short, flipped bits) is moved aside to
  ``<name>.rejected``, so the next run downloads it again.
* The cached file is written with the permissions of any new file of the process (``0666`` less its umask),
  so a cache shared by jobs and users reads as the umask says.
* Transient failures (connection errors, time-outs, a transfer cut short, HTTP 5xx) are retried; a failure
  that persists, or a permanent one (HTTP 404), is an error naming the URL, the cache path where the file
  can be placed by hand, and the expected hash.
"""
import contextlib
import fcntl
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from typing import Iterator, List, Optional, TextIO

import torch
from mmengine.logging import print_log

from mmseg_kd.checkpoint.download_progress import DownloadProgress
from mmseg_kd.checkpoint.safe_loading import looks_like_torch_file
from mmseg_kd.checkpoint.sha256 import ChecksumMismatchError, file_sha256, mismatch_message, sha256_matches
from mmseg_kd.utils.user_input_error import UserFileError

URL_PREFIXES = ('http://', 'https://')
CHUNK_BYTES = 1 << 20
# HTTP statuses worth another attempt: time-out, too many requests, server-side errors.
RETRIED_HTTP_STATUSES = (408, 429, 500, 502, 503, 504)
NEW_FILE_MODE = 0o666  # what open() asks for a new file, before the umask


class CheckpointDownloadError(UserFileError):
    """A checkpoint URL could not be downloaded (offline, unknown file, repeated transfer failures)."""


class NotACheckpointError(UserFileError):
    """A URL answered with something that is not a torch checkpoint (an error or log-in page)."""


class TruncatedTransferError(OSError):
    """The server sent fewer bytes than its ``Content-Length`` announced."""


def is_url(checkpoint: str) -> bool:
    """Whether ``checkpoint`` is an http(s) URL rather than a local path."""
    return isinstance(checkpoint, str) and checkpoint.startswith(URL_PREFIXES)


def default_cache_dir() -> str:
    """torch hub's checkpoint folder: ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints``)."""
    return os.path.join(torch.hub.get_dir(), 'checkpoints')


def cache_path(url: str, cache_dir: Optional[str] = None) -> str:
    """Where the download of ``url`` is kept: ``<cache_dir>/<file name of the URL>``.

    Raises:
        ValueError: the URL's path does not end with a file name.
    """
    name = os.path.basename(urllib.parse.urlparse(url).path)
    if not name:
        raise ValueError(f'checkpoint URL {url!r} does not end with a file name (e.g. .../model-1a2b3c4d.pth)')
    return os.path.join(os.path.expanduser(cache_dir or default_cache_dir()), name)


def download_checkpoint(url: str, *, sha256: Optional[str] = None, cache_dir: Optional[str] = None,
                        what: str = 'checkpoint', attempts: int = 3, retry_wait_s: float = 2.0,
                        timeout_s: float = 60.0, progress_stream: Optional[TextIO] = None) -> str:
    """The path of a complete local copy of ``url``, downloaded into the cache unless it is there already.

    Args:
        url: an http(s) URL whose path ends with the file name.
        sha256: the expected SHA-256, whole or its first 8 or more hex digits (lower case); checked on the
            download and on every later use of the cached file. ``None`` checks nothing.
        cache_dir: the cache folder; :func:`default_cache_dir` when ``None``.
        what: how messages name the file (e.g. ``'teacher checkpoint'``).
        attempts: how many times a transient failure is tried.
        retry_wait_s: seconds before the second attempt; doubled before each further one.
        timeout_s: seconds without any data from the server after which an attempt fails.
        progress_stream: where the progress is drawn; ``sys.stderr`` by default.

    Raises:
        CheckpointDownloadError: the download failed (offline, HTTP error, repeated transfer failures).
        ChecksumMismatchError: the downloaded or cached file has another SHA-256.
        NotACheckpointError: the URL answered with something that is not a torch checkpoint.
    """
    path = cache_path(url, cache_dir)
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with _exclusive_lock(path + '.lock', url):
            if not os.path.isfile(path):
                _download_with_retries(url, path, sha256, what, attempts, retry_wait_s, timeout_s, progress_stream)
                return path
    if sha256 is not None:
        _check_cached_file(url, path, sha256, what)
    print_log(f'{what}: {path} (cached download of {url})', logger='current')
    return path


@contextlib.contextmanager
def _exclusive_lock(lock_path: str, url: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path``; say so when another process holds it first."""
    with open(lock_path, 'a') as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print_log(f'waiting for another process that is downloading {url} (it holds {lock_path})',
                      logger='current')
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _download_with_retries(url: str, path: str, sha256: Optional[str], what: str, attempts: int,
                           retry_wait_s: float, timeout_s: float, progress_stream: Optional[TextIO]) -> None:
    failures: List[str] = []
    for attempt in range(1, attempts + 1):
        try:
            _download_once(url, path, sha256, what, timeout_s, progress_stream)
            return
        except urllib.error.HTTPError as error:
            failures.append(f'HTTP {error.code} {error.reason}')
            if error.code not in RETRIED_HTTP_STATUSES:
                break
        except urllib.error.URLError as error:
            failures.append(str(error.reason))
            if isinstance(error.reason, socket.gaierror):  # the host name does not resolve: offline
                break
        except (OSError, http.client.HTTPException) as error:  # reset, time-out, truncated transfer
            failures.append(f'{type(error).__name__}: {error}')
        if attempt < attempts:
            wait_s = retry_wait_s * 2 ** (attempt - 1)
            print_log(f'{what}: downloading {url} failed ({failures[-1]}); attempt {attempt + 1} of {attempts} '
                      f'in {wait_s:g} s', logger='current', level=30)
            time.sleep(wait_s)
    expected = (f'its SHA-256 must start with {sha256}' if sha256 else
                'no checkpoint_sha256 is configured, so its content is not checked')
    tries = f'{len(failures)} attempt' + ('s' if len(failures) > 1 else '')
    raise CheckpointDownloadError(
        f'{what}: could not download {url} after {tries} ({"; ".join(failures)}).\n'
        f'Without internet access, download the file on another machine and place it at\n    {path}\n'
        f'({expected}), set checkpoint_cache_dir to the folder that holds it, or give a local path as the '
        'checkpoint.')


def _download_once(url: str, path: str, sha256: Optional[str], what: str, timeout_s: float,
                   progress_stream: Optional[TextIO]) -> None:
    """Download ``url`` to a temporary file next to ``path``, check it, then rename it to ``path``."""
    directory, name = os.path.split(path)
    descriptor, partial = tempfile.mkstemp(dir=directory, prefix=f'.{name}.', suffix='.partial')
    try:
        with os.fdopen(descriptor, 'wb') as out:
            request = urllib.request.Request(url, headers={'User-Agent': 'mmseg-kd'})
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                announced = response.headers.get('Content-Length')
                total = int(announced) if announced and announced.isdigit() else None
                print_log(f'{what}: downloading {url}\n    to {path}', logger='current')
                progress = DownloadProgress(total, progress_stream)
                digest, received = hashlib.sha256(), 0
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b''):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    progress.update(received)
                progress.finish(received)
            if total is not None and received < total:
                raise TruncatedTransferError(f'the server sent {received} of the {total} bytes it announced')
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        _check_download(url, path, partial, actual, sha256, what)
        os.chmod(partial, NEW_FILE_MODE & ~_process_umask())  # mkstemp made it 0600
        os.replace(partial, path)
        _fsync_directory(directory)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)
        raise
    pin = '' if sha256 and len(sha256) == 64 else f"; pin it with checkpoint_sha256='{actual}'"
    print_log(f'{what}: saved {path} (sha256 {actual}{pin})', logger='current')


def _check_download(url: str, path: str, partial: str, actual: str, sha256: Optional[str], what: str) -> None:
    if sha256 is not None and not sha256_matches(actual, sha256):
        raise ChecksumMismatchError(
            mismatch_message(what, url, actual, sha256)
            + f' The download was deleted; nothing was stored at {path}. If the file at that URL was replaced '
            'on purpose, check where it comes from before you change checkpoint_sha256.')
    if not looks_like_torch_file(partial):
        with open(partial, 'rb') as file:
            start = file.read(60)
        raise NotACheckpointError(
            f'{what}: {url} answered with something that is not a torch checkpoint (it begins with {start!r}): '
            f'an error page, or a proxy or log-in page? The download was deleted; nothing was stored at {path}.')


def _check_cached_file(url: str, path: str, sha256: str, what: str) -> None:
    """Refuse a cached file with another hash: a readable one stays in place, a damaged one is moved aside."""
    actual = file_sha256(path)
    if sha256_matches(actual, sha256):
        return
    if is_intact_torch_file(path):
        raise ChecksumMismatchError(
            mismatch_message(what, path, actual, sha256)
            + f' It is a readable torch file and was left in place. If it is the file you mean (a typo in the '
            f"config's hash), set checkpoint_sha256='{actual}'; if it is not, delete {path} and the next run "
            f'downloads {url} again.')
    rejected = path + '.rejected'
    with contextlib.suppress(FileNotFoundError):  # another process moved it first
        os.replace(path, rejected)
    raise ChecksumMismatchError(
        mismatch_message(what, path, actual, sha256)
        + f' It is damaged (not a readable torch file) and was moved to {rejected}; the next run downloads {url} '
        'again. If you placed the file there yourself, it is not the file the config names.')


def is_intact_torch_file(path: str) -> bool:
    """Whether ``path`` reads as a whole torch file: a zip archive whose every member passes its CRC check
    (``torch.save`` since torch 1.6), or a file in the older pickle format (not checked further: reading it
    would run its pickle, so it counts as readable and is kept)."""
    if not zipfile.is_zipfile(path):
        return looks_like_torch_file(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return False


def _process_umask() -> int:
    """The umask of this process (read by setting it and setting it back, the only portable way)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
