"""tools/analysis/gpu_report.py: the GPU report's parts run on the CPU at the tiny size through the real tools
(benchmark.py in process, train.py in a subprocess), each teacher mode really measured as itself; a spent budget,
a mode the machine cannot run and missing mmcv ops are recorded or stopped with their reason."""
import importlib.util
import json
import math
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from conftest import PYTHON, REPO
from mmseg_kd.analysis import gpu_report
from mmseg_kd.analysis.gpu_report import BENCHMARK_CASES, TINY_SIZE, GpuReport, failed_parts, mode_unavailable
from mmseg_kd.analysis.mmcv_ops_check import check_mmcv_ops
from mmseg_kd.analysis.teacher_compile import compile_teacher
from mmseg_kd.utils.user_input_error import UserInputError
from test_seg_distiller import batch, distiller_cfg

KD_CASE = next(case for case in BENCHMARK_CASES if case['key'] == 'kd')


@pytest.fixture(scope='module')
def tiny_report(tmp_path_factory):
    """One tiny run: the derived pixel-KD case in every teacher mode (compiled with the eager backend, which traces
    like inductor without generating code), and the training run (without --amp on the CPU)."""
    out = tmp_path_factory.mktemp('gpu_report')
    process = subprocess.run([PYTHON, 'tools/analysis/gpu_report.py', '--device', 'cpu', '--tiny', '--cases', 'kd',
                              '--compile', '--compile-backend', 'eager', '--out-dir', str(out)],
                             cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert process.returncode == 0, (process.stdout + process.stderr)[-6000:]
    return out, json.loads((out / 'gpu_report.json').read_text()), (out / 'gpu_report.md').read_text()


def test_every_teacher_mode_is_measured_as_itself(tiny_report):
    out, report, _ = tiny_report
    parts = {part['teacher']: part for part in report['parts'] if part['kind'].endswith('benchmark')}
    assert list(parts) == ['float32', 'bfloat16', 'channels_last', 'compiled']
    for mode, part in parts.items():
        assert part['status'] == 'done', part
        result = part['result']
        assert result['input_size'] == list(TINY_SIZE['input_size']) and result['batch_size'] == 2
        assert result['iters'] == TINY_SIZE['iters'] and result['device'] == 'cpu'
        assert all(value > 0 for value in result['seconds'].values()), result
        assert result['teacher_dtype'] == ('bfloat16' if mode == 'bfloat16' else 'float32')
        assert result['teacher_channels_last'] is (mode == 'channels_last')
        compiled = result['teacher_compile']
        assert (compiled is not None) is (mode == 'compiled')
        if compiled:
            assert compiled['backend'] == 'eager' and compiled['first_call_seconds'] > 0
    derived = Config.fromfile(parts['float32']['command'].split()[2])
    assert derived.model.distill_losses.to_dict() == KD_CASE['distill_losses']
    assert str(out) in parts['float32']['command']


def test_training_run_trains_every_step_with_finite_losses(tiny_report):
    _, report, _ = tiny_report
    (part,) = [part for part in report['parts'] if part['kind'] == 'amp_training']
    result = part['result']
    assert part['status'] == 'done' and result['returncode'] == 0, part
    assert result['amp'] is False and result['amp_note'] == 'no GPU: trained without --amp'
    assert result['optim_wrapper'] == 'OptimWrapper'
    assert len(result['losses']) == result['iterations'] == TINY_SIZE['train_iters']
    assert all(math.isfinite(loss) and loss > 0 for loss in result['losses'])
    assert failed_parts(report) == []


def test_markdown_table_holds_the_json_figures(tiny_report):
    _, report, table = tiny_report
    assert table.startswith(f"## {report['device_name']} (torch {torch.__version__}")
    assert report['command'] in table
    for part in report['parts']:
        if not part['kind'].endswith('benchmark'):
            continue
        result = part['result']
        (row,) = [line for line in table.splitlines() if line.startswith(f"| {part['name']} | 32x64 | "
                                                                         f"{part['teacher']} |")]
        cells = [cell.strip() for cell in row.strip('|').split('|')]
        assert cells[3:6] == [f"{result['seconds'][step] * 1000:.1f}" for step in ('student', 'teacher', 'distill')]
        assert cells[7].startswith(f"**{result['overhead_ratio']:.3f}**")
        compiled = result['teacher_compile']
        assert cells[9] == (f"{compiled['first_call_seconds']:.1f}" if compiled else '–')
    losses = report['parts'][-2]['result']['losses']  # the training run comes before the compiled parts
    assert f'loss {losses[0]:.3f} → {losses[-1]:.3f}' in table


def test_a_spent_budget_skips_the_remaining_parts(tmp_path):
    def benchmark_main(argv):
        raise AssertionError(f'benchmark ran past the budget: {argv}')

    report = GpuReport(str(REPO), str(tmp_path), 'cpu', tiny=True, compile_backend='eager', budget_s=-1,
                       benchmark_main=benchmark_main, environment=dict(command='gpu_report.py', device_name='cpu',
                                                                       torch=torch.__version__, cuda=None)).run()
    assert len(report['parts']) == 4 * len(BENCHMARK_CASES) + 1
    assert all(part['status'] == 'skipped' and 'time budget' in part['reason'] for part in report['parts'])
    assert json.loads((tmp_path / 'gpu_report.json').read_text())['parts'] == report['parts']
    assert 'skipped: time budget of -1 s spent' in (tmp_path / 'gpu_report.md').read_text()


def test_a_part_that_would_end_after_the_budget_does_not_start(tmp_path, monkeypatch):
    """The first part of a kind runs; the next ones start only if the longest of their kind so far still fits
    (on a clock that each benchmark part moves by 100 s)."""
    clock = dict(now=0.0)

    def benchmark_main(argv):
        clock['now'] += 100
        return dict(seconds=dict(student=1.0, teacher=1.0, distill=2.0), images_per_second=dict(distill=1.0),
                    overhead_ratio=1.0, overhead_ratio_quartiles=[1.0, 1.0], teacher_compile=None,
                    peak_memory_mb=dict(student=1.0, teacher=1.0, distill=1.0))

    def training_run(repo, work_dir, device, iterations, timeout_s):
        return dict(amp=False, amp_note='no GPU', iterations=iterations, seconds=0.1, returncode=0, losses=[1.0] * 2,
                    finite=True)

    monkeypatch.setattr(GpuReport, 'elapsed', lambda self: clock['now'])
    monkeypatch.setattr(gpu_report, 'write_case_config', lambda case, repo, path: None)
    monkeypatch.setattr('mmseg_kd.analysis.amp_training_run.amp_training_run', training_run)
    report = GpuReport(str(REPO), str(tmp_path), 'cpu', tiny=True, compile_backend=None, budget_s=150,
                       benchmark_main=benchmark_main, cases=('cwd',),
                       environment=dict(command='gpu_report.py', device_name='cpu', torch=torch.__version__,
                                        cuda=None)).run()
    assert [part['status'] for part in report['parts']] == ['done', 'skipped', 'skipped', 'done']
    assert [part['seconds'] for part in report['parts']] == [100, 0, 0, 0]
    assert report['parts'][1]['reason'] == ('time budget of 150 s: at 100 s, too little left for a part that takes '
                                            'up to 100 s')


def test_a_mode_the_machine_cannot_run_is_named_with_its_reason(monkeypatch):
    assert mode_unavailable('compiled', 'cpu', 'inductor') is None  # this machine has g++
    monkeypatch.setattr(gpu_report.shutil, 'which', lambda name: None)
    assert 'needs a C++ compiler (g++)' in mode_unavailable('compiled', 'cpu', 'inductor')
    assert mode_unavailable('compiled', 'cpu', 'eager') is None
    monkeypatch.delattr(torch.nn.Module, 'compile')
    assert 'has no nn.Module.compile' in mode_unavailable('compiled', 'cpu', 'eager')


def test_missing_mmcv_ops_stop_with_the_fix(monkeypatch):
    assert check_mmcv_ops('cpu') == 'not available'  # the CPU build here runs nms correctly
    monkeypatch.setitem(sys.modules, 'mmcv.ops', None)  # what a wheel without mmcv._ext looks like to an import
    with pytest.raises(UserInputError, match=r'mmcv with compiled ops is not importable.*docs/gpu_report\.md'):
        check_mmcv_ops('cuda')


def test_the_tool_stops_at_once_when_mmcv_has_no_ops():
    """mmcv without mmcv._ext (mmcv-lite, or a wheel for another torch): one message naming the fix, exit status 1,
    before ``import mmseg_kd`` (which needs the ops) could fail with a traceback."""
    code = ("import runpy, sys; sys.modules['mmcv._ext'] = None; sys.argv = ['gpu_report.py', '--device', 'cpu']; "
            "runpy.run_path('tools/analysis/gpu_report.py', run_name='__main__')")
    process = subprocess.run([PYTHON, '-c', code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert process.returncode == 1, process.stdout + process.stderr
    assert 'gpu_report.py stopped: mmcv with compiled ops is not importable' in process.stderr
    assert 'docs/gpu_report.md ("mmcv on the GPU machine")' in process.stderr
    assert 'Traceback' not in process.stderr


def test_asking_for_cuda_without_cuda_stops_before_measuring(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    spec = importlib.util.spec_from_file_location('gpu_report_tool', REPO / 'tools/analysis/gpu_report.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(UserInputError, match='sees no CUDA device.*--device cpu --tiny'):
        tool.main(['--device', 'cuda', '--out-dir', str(tmp_path)])
    assert not (tmp_path / 'gpu_report.json').exists()


def test_compiled_teacher_still_records_its_taps_and_the_same_values(r18_checkpoint):
    """compile_teacher compiles the parts forward_for_taps calls; the tap hooks inside them still record, and what
    they record equals the uncompiled teacher's (the eager backend runs the traced graph without code generation)."""
    distiller = MODELS.build(distiller_cfg(r18_checkpoint))
    distiller.eval()
    inputs, _ = batch()
    recorder = distiller.teacher_recorder
    distiller.teacher_forward(inputs)
    expected = recorder.get(recorder.taps[0]).clone()
    assert compile_teacher(distiller, inputs, backend='eager') > 0
    assert distiller.teacher.backbone._compiled_call_impl is not None
    assert distiller.teacher.decode_head._compiled_call_impl is not None
    distiller.teacher_forward(inputs)
    torch.testing.assert_close(recorder.get(recorder.taps[0]), expected, rtol=0, atol=0)
