"""Tools start quietly: the pkg_resources deprecation warning that mmengine's ``mmseg::`` lookups cause is silenced
(that one warning only), and the slow steps of the analysis tools say what they are doing."""
import io
import subprocess
import sys
import time

from conftest import REPO, STUDENT_CFG
from mmseg_kd.utils.progress import announce_step

PKG_RESOURCES = 'pkg_resources is deprecated as an API'
SCRIPT = f"""
import warnings
import mmseg_kd
from mmengine.config import Config

Config.fromfile({str(STUDENT_CFG)!r})  # its _base_ is an mmseg:: config: mmengine looks it up with pkg_resources
warnings.warn('another warning still shows', UserWarning)
print('--- without the filter of mmseg_kd', file=sys.stderr, flush=True)
warnings.filters[:] = [entry for entry in warnings.filters
                       if not (entry[1] is not None and entry[1].pattern.startswith('pkg_resources'))]
from mmseg_kd.utils import mmengine_config_cache
mmengine_config_cache._INSTALLED.clear()  # mmseg_kd remembers installed packages: make the lookup ask mmengine again
Config.fromfile({str(STUDENT_CFG)!r})
"""


def test_mmseg_config_lookups_warn_about_pkg_resources_only_without_the_filter():
    process = subprocess.run([sys.executable, '-c', 'import sys\n' + SCRIPT], cwd=REPO, capture_output=True,
                             text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    with_filter, without_filter = process.stderr.split('--- without the filter of mmseg_kd')
    assert PKG_RESOURCES not in with_filter
    assert 'another warning still shows' in with_filter
    assert PKG_RESOURCES in without_filter  # the warning is real, and the filter is what hides it


def test_a_step_says_what_it_does_and_how_long_it_took():
    stream = io.StringIO()
    with announce_step('loading the teacher', file=stream):
        time.sleep(0.2)
    first, second = stream.getvalue().splitlines()
    assert first == 'loading the teacher ...'
    seconds = float(second.removeprefix('loading the teacher: done in ').removesuffix(' s'))
    assert 0.2 <= seconds < 5
