"""tools/demo.py and the tools it runs: a SIGINT or SIGTERM the demo receives is sent on to the tool it runs
(signalled while its teacher trains, in a copy of the repository on 10 generated scenes, it stops, and so does
tools/train.py), and the progress lines it echoes are whole."""
import importlib.util
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import PYTHON, REPO

START_TIMEOUT_S = 300


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    folder = tmp_path_factory.mktemp('demo_signal_sandbox')
    for part in ('configs', 'distillation_configs', 'tools', 'mmseg_kd'):
        shutil.copytree(REPO / part, folder / part, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    return folder


def children(pid):
    """The process ids of the children of ``pid`` (Linux /proc)."""
    with open(f'/proc/{pid}/task/{pid}/children') as file:
        return [int(child) for child in file.read().split()]


def command_line(pid):
    with open(f'/proc/{pid}/cmdline', 'rb') as file:
        return file.read().replace(b'\0', b' ').decode()


def wait_for_train_child(demo):
    """The pid of the demo's tools/train.py child, once it runs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert demo.poll() is None, demo.communicate()[0][-3000:]
        for child in children(demo.pid):
            try:
                if 'tools/train.py' in command_line(child):
                    return child
            except FileNotFoundError:  # a tool that just ended
                continue
        time.sleep(0.2)
    raise AssertionError(f'tools/demo.py started no tools/train.py within {START_TIMEOUT_S} s')


def process_group_is_gone(pgid, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_demo_stops_its_train_py_child(sandbox, signum):
    demo = subprocess.Popen(
        [PYTHON, 'tools/demo.py', '--num-train', '9', '--num-val', '1', '--teacher-iters', '100000'],
        cwd=sandbox, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONPATH=str(sandbox), MPLBACKEND='Agg'))
    try:
        train = wait_for_train_child(demo)
        demo.send_signal(signum)
        output = demo.communicate(timeout=120)[0]
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 128 + signum, output[-3000:]
    assert f'demo.py: {signal.Signals(signum).name} received; stopping tools/train.py (pid {train})' in output
    assert not os.path.exists(f'/proc/{train}'), 'tools/train.py still runs'
    assert process_group_is_gone(train), 'a process of tools/train.py still runs'


def test_the_demo_echoes_a_tool_s_progress_lines_whole(capsys):
    demo = load_demo()
    long_line = 'Iter(train) [ 10/202]  ' + '  '.join(f'distill.loss_term_{k}: 0.{k:04d}' for k in range(12))
    script = f'print("12/06 19:00:00 - mmengine - INFO - " + {long_line!r}); print("other")'
    output = demo.run_tool_process('-c', script)
    assert len(long_line) > 300 and 'other' in output
    assert f'    {long_line}\n' in capsys.readouterr().out


def load_demo():
    spec = importlib.util.spec_from_file_location('demo', REPO / 'tools' / 'demo.py')
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def test_a_signal_while_a_tool_starts_waits_until_the_demo_can_forward_it(capsys, monkeypatch):
    """SIGTERM arrives after the tool's process exists but before the demo has registered it (the moment
    subprocess.Popen returns): it must still reach the tool, and the tool must not inherit the blocked signals."""
    demo = load_demo()
    started, real_popen = [], subprocess.Popen

    def popen_then_signal(*args, **kwargs):
        process = real_popen(*args, **kwargs)
        started.append(process)
        # the demo's main thread receives it now (the demo has no other thread; this test process has, and a signal
        # sent to the process could land on one of them, which does not block it)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGTERM)
        return process

    monkeypatch.setattr(demo.subprocess, 'Popen', popen_then_signal)
    previous = signal.signal(signal.SIGTERM, demo.stop_tools_and_exit)
    try:
        with pytest.raises(SystemExit) as stopped:
            demo.run_tool_process('-c', 'import time; time.sleep(60)')
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.value.code == 128 + signal.SIGTERM
    tool = started[0]
    assert f'demo.py: SIGTERM received; stopping -c (pid {tool.pid})' in capsys.readouterr().err
    assert tool.returncode == -signal.SIGTERM  # the forwarded signal ended it: it was not blocked in the tool
    assert signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
