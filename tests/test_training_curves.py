"""plot_logs.py's reading of mmengine scalar logs and its pictures."""
import json

import pytest

from image_checks import assert_real_png
from mmseg_kd.analysis.training_curves import plot_training_curves, read_scalars


def write_log(work_dir, timestamp, records):
    folder = work_dir / timestamp / 'vis_data'
    folder.mkdir(parents=True)
    (folder / 'scalars.json').write_text(''.join(json.dumps(record) + '\n' for record in records))


def train_record(iteration, loss):
    return {'lr': 0.01, 'loss': loss, 'decode.loss_ce': loss / 2, 'distill.loss_cwd': loss / 4,
            'iter': iteration, 'step': iteration}


@pytest.fixture
def resumed_run(tmp_path):
    """A run that stopped after iteration 2 and was resumed (a second timestamp folder)."""
    write_log(tmp_path, '20240101_000000', [train_record(1, 4.0), train_record(2, 3.0),
                                            {'mIoU': 10.0, 'aAcc': 50.0, 'step': 2}])
    write_log(tmp_path, '20240102_000000', [train_record(3, 2.0), {'mIoU': 20.0, 'aAcc': 60.0, 'step': 3}])
    return tmp_path


def test_a_work_dir_s_logs_are_joined_in_timestamp_order(resumed_run):
    series = read_scalars(str(resumed_run))
    assert series['distill.loss_cwd'] == [(1, 1.0), (2, 0.75), (3, 0.5)]
    assert series['mIoU'] == [(2, 10.0), (3, 20.0)]
    assert 'iter' not in series and 'step' not in series
    single = read_scalars(str(resumed_run / '20240102_000000' / 'vis_data' / 'scalars.json'))
    assert single['loss'] == [(3, 2.0)]


def test_one_panel_per_key_of_the_documented_size(resumed_run, tmp_path):
    out = tmp_path / 'curves.png'
    size = plot_training_curves({'run': read_scalars(str(resumed_run))},
                                ['distill.loss_cwd', 'decode.loss_ce', 'mIoU'], str(out))
    assert size == (800, 750)
    assert_real_png(out, (800, 750))


def test_several_runs_share_the_panels(resumed_run, tmp_path):
    baseline = tmp_path / 'baseline'
    write_log(baseline, '20240103_000000', [{'decode.loss_ce': 3.0, 'iter': 1, 'step': 1},
                                            {'mIoU': 5.0, 'step': 1}])
    out = tmp_path / 'compare.png'
    plot_training_curves({'distilled': read_scalars(str(resumed_run)), 'alone': read_scalars(str(baseline))},
                         ['decode.loss_ce', 'distill.loss_cwd'], str(out))
    assert_real_png(out, (800, 500))


def test_a_key_that_is_not_logged_names_the_closest_ones(resumed_run, tmp_path):
    with pytest.raises(KeyError, match=r"'mIou' is not in the log\. Did you mean mIoU\?"):
        plot_training_curves({'run': read_scalars(str(resumed_run))}, ['mIou'], str(tmp_path / 'x.png'))
    assert not (tmp_path / 'x.png').exists()


def test_a_folder_without_logs_says_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match='no \\*/vis_data/scalars.json under .*--work-dir'):
        read_scalars(str(tmp_path))
