"""Checkpoints by URL, against a loopback HTTP server: one download into the cache, checked against its SHA-256,
never a partial or wrong file under the final name, retries, clear errors, several processes at once."""
import hashlib
import importlib.util
import io
import multiprocessing
import os
import socket
import stat
import time

import pytest
import torch
from mmseg.registry import MODELS

from conftest import CWD_DISTILL_CFG, REPO, STUDENT_CFG
from loopback_http import LoopbackServer, ServedFile
from mmseg_kd.checkpoint.download import (
    CheckpointDownloadError,
    NotACheckpointError,
    cache_path,
    default_cache_dir,
    download_checkpoint,
)
from mmseg_kd.checkpoint.safe_loading import load_checkpoint_file
from mmseg_kd.checkpoint.sha256 import ChecksumMismatchError

NAME = 'teacher_20200606_112211-e1e1100f.pth'
MIB = 1 << 20
LOGITS = 'decode_head.conv_seg'


def checkpoint_bytes(values=400_000):
    buffer = io.BytesIO()
    torch.save({'state_dict': {'weight': torch.arange(values, dtype=torch.float32)}}, buffer)
    return buffer.getvalue()


PAYLOAD = checkpoint_bytes()
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server():
    server = LoopbackServer()
    yield server
    server.close()


def leftovers(folder):
    """Files of the cache folder besides the lock files."""
    return sorted(name for name in os.listdir(folder) if not name.endswith('.lock'))


def test_download_is_stored_under_the_url_s_file_name_and_loads(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD))
    progress = io.StringIO()
    path = download_checkpoint(url, sha256=SHA256[:8], cache_dir=str(tmp_path), progress_stream=progress)
    assert path == str(tmp_path / NAME)
    assert (tmp_path / NAME).read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == [NAME]
    assert torch.equal(load_checkpoint_file(path)['state_dict']['weight'], torch.arange(400_000.))
    size = len(PAYLOAD) / MIB
    assert f'{size:.1f} / {size:.1f} MiB (100%) in' in progress.getvalue()


def test_cache_hit_makes_no_second_request(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD))
    first = download_checkpoint(url, sha256=SHA256, cache_dir=str(tmp_path), progress_stream=io.StringIO())
    second = download_checkpoint(url, sha256=SHA256, cache_dir=str(tmp_path), progress_stream=io.StringIO())
    assert first == second and server.requests_for(url) == 1


def test_progress_without_a_content_length(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD, send_length=False))
    progress = io.StringIO()
    download_checkpoint(url, sha256=SHA256, cache_dir=str(tmp_path), progress_stream=progress)
    assert (tmp_path / NAME).read_bytes() == PAYLOAD
    assert f'  {len(PAYLOAD) / MIB:.1f} MiB in' in progress.getvalue() and '%' not in progress.getvalue()


def test_hash_mismatch_names_both_hashes_and_stores_nothing(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD))
    wrong = '0123abcd' if not SHA256.startswith('0123abcd') else '3210dcba'
    with pytest.raises(ChecksumMismatchError) as error:
        download_checkpoint(url, sha256=wrong, cache_dir=str(tmp_path), retry_wait_s=0)
    message = str(error.value)
    assert url in message and SHA256 in message and wrong in message
    assert str(tmp_path / NAME) in message and 'nothing was stored' in message
    assert leftovers(tmp_path) == [] and server.requests_for(url) == 1


def test_not_found_is_not_retried_and_says_where_to_place_the_file(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD)).replace(NAME, 'missing-1a2b3c4d.pth')
    with pytest.raises(CheckpointDownloadError) as error:
        download_checkpoint(url, sha256='1a2b3c4d', cache_dir=str(tmp_path), retry_wait_s=0)
    message = str(error.value)
    assert f'could not download {url} after 1 attempt (HTTP 404 Not Found)' in message
    assert str(tmp_path / 'missing-1a2b3c4d.pth') in message and 'must start with 1a2b3c4d' in message
    assert server.requests_for(url) == 1 and leftovers(tmp_path) == []


def test_truncated_transfer_is_retried_then_reported(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD, cut_short_requests=10))
    with pytest.raises(CheckpointDownloadError) as error:
        download_checkpoint(url, cache_dir=str(tmp_path), attempts=2, retry_wait_s=0,
                            progress_stream=io.StringIO())
    message = str(error.value)
    assert f'after 2 attempts (TruncatedTransferError: the server sent {len(PAYLOAD) // 2} of the {len(PAYLOAD)} ' \
        'bytes it announced; TruncatedTransferError' in message
    assert server.requests_for(url) == 2 and leftovers(tmp_path) == []


def test_interrupted_download_then_a_retry_that_succeeds(server, tmp_path):
    """The first two transfers are cut short: a call with one attempt fails and leaves nothing; the next call's
    first attempt fails too, and its automatic retry succeeds."""
    url = server.serve(NAME, ServedFile(PAYLOAD, cut_short_requests=2))
    with pytest.raises(CheckpointDownloadError):
        download_checkpoint(url, sha256=SHA256, cache_dir=str(tmp_path), attempts=1, progress_stream=io.StringIO())
    assert leftovers(tmp_path) == []
    path = download_checkpoint(url, sha256=SHA256, cache_dir=str(tmp_path), attempts=2, retry_wait_s=0,
                               progress_stream=io.StringIO())
    assert open(path, 'rb').read() == PAYLOAD and server.requests_for(url) == 3
    assert leftovers(tmp_path) == [NAME]


def test_offline_names_the_url_the_cache_path_and_the_hash(tmp_path):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(('127.0.0.1', 0))
        url = f'http://127.0.0.1:{sock.getsockname()[1]}/zoo/{NAME}'
    with pytest.raises(CheckpointDownloadError) as error:
        download_checkpoint(url, sha256='e1e1100f', cache_dir=str(tmp_path), attempts=2, retry_wait_s=0)
    message = str(error.value)
    assert url in message and str(tmp_path / NAME) in message and 'e1e1100f' in message
    assert 'after 2 attempts' in message and 'refused' in message


def test_a_host_name_that_does_not_resolve_is_not_retried(tmp_path):
    url = f'http://checkpoints.invalid/zoo/{NAME}'  # .invalid never resolves (RFC 2606)
    with pytest.raises(CheckpointDownloadError, match=f'could not download {url} after 1 attempt '):
        download_checkpoint(url, cache_dir=str(tmp_path), attempts=3, retry_wait_s=0)


def test_an_error_page_is_not_stored(server, tmp_path):
    url = server.serve(NAME, ServedFile(b'<html><body>Please log in</body></html>'))
    with pytest.raises(NotACheckpointError, match="not a torch checkpoint.*<html>.*nothing was stored"):
        download_checkpoint(url, cache_dir=str(tmp_path), progress_stream=io.StringIO())
    assert leftovers(tmp_path) == []


def flipped_byte(payload, at):
    return payload[:at] + bytes([payload[at] ^ 0xFF]) + payload[at + 1:]


def test_a_damaged_cached_file_is_moved_aside_and_downloaded_again(server, tmp_path):
    url = server.serve(NAME, ServedFile(PAYLOAD))
    wrong = flipped_byte(PAYLOAD, len(PAYLOAD) // 2)  # flipped bits on disk, inside the tensor's bytes
    (tmp_path / NAME).write_bytes(wrong)
    with pytest.raises(ChecksumMismatchError) as error:
        download_checkpoint(url, sha256=SHA256[:8], cache_dir=str(tmp_path))
    message = str(error.value)
    assert hashlib.sha256(wrong).hexdigest() in message and SHA256[:8] in message and str(tmp_path / NAME) in message
    assert server.requests_for(url) == 0 and (tmp_path / f'{NAME}.rejected').read_bytes() == wrong
    path = download_checkpoint(url, sha256=SHA256[:8], cache_dir=str(tmp_path), progress_stream=io.StringIO())
    assert open(path, 'rb').read() == PAYLOAD and server.requests_for(url) == 1


@pytest.mark.parametrize('placed', ['right file, typo in the hash', 'another readable checkpoint'])
def test_a_readable_cached_file_with_another_hash_stays_in_place(server, tmp_path, placed):
    """A typo in checkpoint_sha256 must not throw away a complete teacher: the file stays, the error names both
    hashes, the hash to pin if the file is the right one, and how to download it again otherwise."""
    url = server.serve(NAME, ServedFile(PAYLOAD))
    cached = PAYLOAD if placed.startswith('right') else checkpoint_bytes(values=1000)
    (tmp_path / NAME).write_bytes(cached)
    actual = hashlib.sha256(cached).hexdigest()
    typo = 'e1e1100e' if not actual.startswith('e1e1100e') else 'e1e1100f'
    with pytest.raises(ChecksumMismatchError) as error:
        download_checkpoint(url, sha256=typo, cache_dir=str(tmp_path))
    message = str(error.value)
    assert f'has SHA-256 {actual}, but the config expects one starting with {typo}' in message
    assert f"left in place. If it is the file you mean (a typo in the config's hash), set " \
        f"checkpoint_sha256='{actual}'; if it is not, delete {tmp_path / NAME} and the next run downloads {url}" \
        in message
    assert leftovers(tmp_path) == [NAME] and (tmp_path / NAME).read_bytes() == cached
    assert server.requests_for(url) == 0
    assert download_checkpoint(url, sha256=actual, cache_dir=str(tmp_path)) == str(tmp_path / NAME)
    assert server.requests_for(url) == 0


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o007, 0o660)])
def test_a_download_is_written_with_the_process_s_umask(server, tmp_path, umask, mode):
    url = server.serve(NAME, ServedFile(PAYLOAD))
    previous = os.umask(umask)
    try:
        path = download_checkpoint(url, sha256=SHA256, cache_dir=str(tmp_path), progress_stream=io.StringIO())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def test_the_default_cache_is_torch_hub_s(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    assert default_cache_dir() == str(tmp_path / 'hub' / 'checkpoints')
    assert cache_path(f'https://example.org/a/b/{NAME}?x=1') == str(tmp_path / 'hub' / 'checkpoints' / NAME)
    with pytest.raises(ValueError, match='does not end with a file name'):
        cache_path('https://example.org/models/')


def _rank(url, cache_dir, start, results):
    start.wait()
    began = time.monotonic()
    path = download_checkpoint(url, sha256=SHA256[:8], cache_dir=cache_dir, progress_stream=io.StringIO())
    with open(path, 'rb') as file:
        results.put((began, path, hashlib.sha256(file.read()).hexdigest()))


def test_processes_downloading_at_once_make_one_request_and_read_only_the_complete_file(server, tmp_path):
    """Four processes (the ranks of a node) ask for the same URL at the same moment, while its (slowed) download
    runs: one request, one file, and every process reads the complete file."""
    url = server.serve(NAME, ServedFile(PAYLOAD, pause_per_chunk_s=0.02))
    context = multiprocessing.get_context('fork')
    start, results = context.Barrier(4), context.Queue()
    ranks = [context.Process(target=_rank, args=(url, str(tmp_path), start, results)) for _ in range(4)]
    for rank in ranks:
        rank.start()
    outcomes = [results.get(timeout=60) for _ in ranks]
    for rank in ranks:
        rank.join(timeout=10)
        assert rank.exitcode == 0
    assert server.requests_for(url) == 1 and leftovers(tmp_path) == [NAME]
    assert {(path, digest) for _, path, digest in outcomes} == {(str(tmp_path / NAME), SHA256)}
    (_, _, finished), = server.responses
    assert all(began < finished for began, _, _ in outcomes), 'the processes did not overlap the download'


def test_teacher_by_url_with_hash_through_the_distiller(server, tmp_path, r18_checkpoint):
    payload = open(r18_checkpoint, 'rb').read()
    url = server.serve('pspnet_r18_demo.pth', ServedFile(payload))
    cfg = dict(type='SegDistiller', student=dict(cfg_path=str(STUDENT_CFG)),
               teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=url,
                            checkpoint_sha256=hashlib.sha256(payload).hexdigest()[:8],
                            checkpoint_cache_dir=str(tmp_path)),
               distill_losses=dict(loss_kd=dict(type='KLDivergence', student=LOGITS, teacher=LOGITS)))
    distiller = MODELS.build(cfg)
    saved = torch.load(r18_checkpoint, weights_only=True)['state_dict']
    for key, value in distiller.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert (tmp_path / 'pspnet_r18_demo.pth').read_bytes() == payload


def test_fetch_teacher_tool_checks_then_fills_the_cache(server, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('fetch_teacher', REPO / 'tools' / 'fetch_teacher.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    url = server.serve(NAME, ServedFile(PAYLOAD))
    config = tmp_path / 'distill.py'
    config.write_text(f"_base_ = ['{CWD_DISTILL_CFG}']\nmodel = dict(teacher=dict(checkpoint='{url}', "
                      f"checkpoint_sha256='{SHA256[:8]}', checkpoint_cache_dir='{tmp_path / 'cache'}'))\n")
    cached = tmp_path / 'cache' / NAME
    assert tool.main([str(config), '--check']) == 1
    assert f'missing: download {url} on a machine with internet access and place it at {cached}' in \
        capsys.readouterr().out
    assert server.requests_for(url) == 0
    assert tool.main([str(config)]) == 0 and cached.read_bytes() == PAYLOAD
    assert tool.main([str(config), '--check']) == 0
    assert tool.main([str(config), '--check', '--cfg-options', 'model.teacher.checkpoint_sha256=0000ffff']) == 1
    assert f'wrong file: its sha256 {SHA256} does not start with 0000ffff' in capsys.readouterr().out
    assert server.requests_for(url) == 1 and cached.read_bytes() == PAYLOAD
