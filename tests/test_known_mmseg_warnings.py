"""mmseg's start-up warnings (``build_loss`` deprecation, ``avg_non_ignore``, ``FileClient``) go to the log file
once and not to the console; every other warning still shows. A Python process that imports mmseg_kd (as every
tool does), builds mmseg losses and logs as a runner's logger would."""
import subprocess
import sys

from conftest import REPO

SCRIPT = """
import logging, sys, warnings
import mmseg_kd
from mmengine.logging import MMLogger, print_log
from mmseg.models.builder import build_loss
from mmseg.registry import MODELS

from mmseg_kd.utils.known_mmseg_warnings import keep_known_mmseg_messages_off_console

MODELS.build(dict(type='CrossEntropyLoss'))  # before any log file: not shown, not remembered
print('--- logger', file=sys.stderr, flush=True)
logger = MMLogger.get_instance('run', log_file=sys.argv[1])
keep_known_mmseg_messages_off_console(logger)
for _ in range(3):
    build_loss(dict(type='CrossEntropyLoss'))
    MODELS.build(dict(type='CrossEntropyLoss'))
    print_log('"FileClient" will be deprecated in future. Please use io functions', logger='current',
              level=logging.WARNING)
warnings.warn('a warning of the user still shows', UserWarning)
print_log('an ordinary log line', logger='current')
"""
KNOWN = ('``build_loss`` would be deprecated soon', 'Default ``avg_non_ignore`` is False',
         '"FileClient" will be deprecated in future')


def test_known_mmseg_warnings_reach_the_log_file_once_and_the_console_never(tmp_path):
    log_file = tmp_path / 'run.log'
    process = subprocess.run([sys.executable, '-c', SCRIPT, str(log_file)], cwd=REPO, capture_output=True, text=True,
                             timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    console = process.stdout + process.stderr
    logged = log_file.read_text()
    for text in KNOWN:
        assert text not in console, text
        assert logged.count(text) == 1, (text, logged)
    assert 'a warning of the user still shows' in process.stderr
    assert 'an ordinary log line' in console and 'an ordinary log line' in logged
    assert "mmseg warns at every start, written here once and not on the console" in logged
