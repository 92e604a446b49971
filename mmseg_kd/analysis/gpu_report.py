"""The GPU figures of docs/benchmarks.md in one timed run: what is measured, in which order, and the report.

Parts, in order (each appended to the JSON report as soon as it ends, so a run stopped by the machine's time limit
keeps what it measured):

1. ``benchmark``: :data:`BENCHMARK_CASES` x the teacher modes float32, bfloat16 (autocast), channels_last, through
   ``tools/analysis/benchmark.py``'s ``main`` in this process;
2. ``amp_training``: one short ``tools/train.py --amp`` run on generated data
   (:func:`mmseg_kd.analysis.amp_training_run.amp_training_run`);
3. with ``compile``: every case again with the teacher ``torch.compile``'d (the first call, compilation included,
   reported apart).

A part starts only when the time left holds it: not after ``budget_s`` seconds, and not when the longest part of its
kind so far (benchmark, compiled benchmark, training) would end after them; it is recorded as skipped instead. A
part that fails is
recorded with its error and the run goes on (the tool's exit status says so). A mode the device cannot run
(bfloat16 without hardware support, inductor without triton or a C++ compiler) is recorded as skipped with the
reason, never silently measured as something else.
"""
import gc
import importlib.util
import json
import os
import os.path as osp
import shutil
import time
import traceback
from typing import Callable, Optional, Sequence

import torch
from mmengine.config import Config, ConfigDict

from mmseg_kd.distillers.model_config import resolve_model_config

BENCHMARK_CASES = (
    dict(key='cwd', name='CWD PSPNet-R101 → PSPNet-R18',
         config='distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_80k_cityscapes.py'),
    dict(key='kd', name='pixel KD PSPNet-R101 → PSPNet-R18',
         config='distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_80k_cityscapes.py',
         distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=3.0,
                                          student='decode_head.conv_seg', teacher='decode_head.conv_seg'))),
    dict(key='cirkd', name='CIRKD DeepLabV3-R101 → DeepLabV3-R18 (CIRKD protocol)',
         config='distillation_configs/cirkd/cirkd_deeplabv3-r101_deeplabv3-r18_40k_cityscapes.py'),
)
TEACHER_MODES = ('float32', 'bfloat16', 'channels_last')
# (input H, W), batch, timed rounds, warm-up rounds, training iterations
FULL_SIZE = dict(input_size=(512, 1024), batch_size=2, iters=10, warmup=3, train_iters=40)
TINY_SIZE = dict(input_size=(32, 64), batch_size=2, iters=2, warmup=0, train_iters=2)
JSON_FILE = 'gpu_report.json'
TABLE_FILE = 'gpu_report.md'


def case_config_path(case: dict, out_dir: str) -> str:
    return osp.join(out_dir, 'configs', f"{case['key']}_{osp.basename(case['config'])}")


def write_case_config(case: dict, repo: str, path: str) -> None:
    """The case's config written once as one flat file, its student and teacher models inline.

    Every build of a config whose models come from ``mmseg::`` configs makes mmengine read mmseg's model-index YAML
    files again (about 50 of them per ``Config.fromfile``, most of a build's time on a small input); the parts of a
    case share this flat copy instead. A case with its own ``distill_losses`` gets them in place of the config's.
    """
    cfg = Config.fromfile(osp.join(repo, case['config']))
    if 'distill_losses' in case:
        cfg.model.distill_losses = ConfigDict(case['distill_losses'])
    for role in ('student', 'teacher'):
        entry = cfg.model[role]
        inline = {key: value for key, value in entry.items() if key not in ('cfg_path', 'cfg_options')}
        cfg.model[role] = ConfigDict(model=resolve_model_config(entry, role), **inline)
    cfg.dump(path)


def mode_unavailable(mode: str, device: str, compile_backend: str) -> Optional[str]:
    """Why ``mode`` cannot run on ``device`` with this torch, or None when it can."""
    cuda = str(device).startswith('cuda')
    if mode == 'bfloat16' and cuda and not torch.cuda.is_bf16_supported():
        return f'{torch.cuda.get_device_name()} has no bfloat16 support'
    if mode == 'compiled':
        if not hasattr(torch.nn.Module, 'compile'):
            return f'torch {torch.__version__} has no nn.Module.compile'
        if compile_backend == 'inductor' and cuda and importlib.util.find_spec('triton') is None:
            return 'inductor on CUDA needs triton, which is not importable (carry the triton wheel matching torch)'
        if compile_backend == 'inductor' and not cuda and shutil.which('g++') is None:
            return 'inductor on the CPU needs a C++ compiler (g++), which is not on PATH'
    return None


def benchmark_argv(config: str, mode: str, device: str, size: dict, compile_backend: str) -> list:
    argv = [config, '--device', device, '--batch-size', str(size['batch_size']), '--input-size',
            *map(str, size['input_size']), '--iters', str(size['iters']), '--warmup', str(size['warmup']),
            '--teacher-dtype', 'bfloat16' if mode == 'bfloat16' else 'float32']
    if mode == 'channels_last':
        argv += ['--cfg-options', 'model.teacher.channels_last=True']
    if mode == 'compiled':
        argv += ['--compile-teacher', compile_backend]
    return argv


def release_device_memory(device: str) -> None:
    gc.collect()
    if str(device).startswith('cuda'):
        torch.cuda.empty_cache()


class GpuReport:
    """Runs the parts within a time budget and keeps the JSON report under ``out_dir`` up to date.

    Args:
        repo: the repository root.
        out_dir: where ``gpu_report.json``, ``gpu_report.md`` and the training run go.
        device: ``'cuda'`` or ``'cpu'``.
        tiny: :data:`TINY_SIZE` instead of :data:`FULL_SIZE` (the same parts at a size meant for a CPU).
        compile_backend: ``torch.compile`` backend of the compiled-teacher part, or None to leave that part out.
        budget_s: seconds from ``start`` within which every part must start and, as far as the parts of its kind
            measured so far tell, end.
        benchmark_main: ``tools/analysis/benchmark.py``'s ``main`` (argv in, result dict out).
        cases: keys of the :data:`BENCHMARK_CASES` to run (all by default).
        environment: versions and device facts recorded at the top of the report.
        start: ``time.perf_counter()`` when the run began (the tool's start, so imports count); default: now.
    """

    def __init__(self, repo: str, out_dir: str, device: str, tiny: bool, compile_backend: Optional[str],
                 budget_s: float, benchmark_main: Callable[[list], dict], environment: dict,
                 cases: Sequence[str] = tuple(case['key'] for case in BENCHMARK_CASES), start: Optional[float] = None):
        self.start = time.perf_counter() if start is None else start
        self.repo, self.out_dir, self.device = repo, out_dir, device
        self.size = TINY_SIZE if tiny else FULL_SIZE
        self.compile_backend, self.budget_s, self.benchmark_main = compile_backend, budget_s, benchmark_main
        self.cases = [case for case in BENCHMARK_CASES if case['key'] in cases]
        self.configs_written = set()
        self.report = dict(environment, tiny=tiny, size=dict(self.size), budget_s=budget_s,
                           compile_backend=compile_backend, parts=[])

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def longest_of_kind(self, kind: str) -> float:
        """Seconds of the longest part of ``kind`` run so far (0 before the first)."""
        return max([part['seconds'] for part in self.report['parts']
                    if part['status'] != 'skipped' and part['kind'] == kind], default=0.0)

    def run_part(self, part: dict, work: Callable[[], dict]) -> None:
        """Run ``work`` if the time left holds it; record its result, its error or why it was skipped."""
        started, expected = self.elapsed(), self.longest_of_kind(part['kind'])
        if started > self.budget_s:
            part.update(status='skipped', reason=f'time budget of {self.budget_s:.0f} s spent ({started:.0f} s)')
        elif started + expected > self.budget_s:
            part.update(status='skipped', reason=f'time budget of {self.budget_s:.0f} s: at {started:.0f} s, too '
                                                 f'little left for a part that takes up to {expected:.0f} s')
        else:
            try:
                part.update(status='done', result=work())
            except Exception as error:  # noqa: BLE001  (recorded; the other parts still run, the exit status fails)
                part.update(status='failed', error=f'{type(error).__name__}: {error}',
                            traceback=traceback.format_exc()[-4000:])
            release_device_memory(self.device)
        part.update(started_s=started, seconds=self.elapsed() - started)
        self.report['parts'].append(part)
        self.write()

    def benchmark_part(self, case: dict, mode: str) -> None:
        part = dict(kind='compiled_benchmark' if mode == 'compiled' else 'benchmark', name=case['name'],
                    config=case['config'], teacher=mode)
        reason = mode_unavailable(mode, self.device, self.compile_backend)
        if reason:
            part.update(status='skipped', reason=reason, started_s=self.elapsed(), seconds=0.0)
            self.report['parts'].append(part)
            self.write()
            return
        config = case_config_path(case, self.out_dir)
        argv = benchmark_argv(config, mode, self.device, self.size, self.compile_backend)
        part['command'] = 'python tools/analysis/benchmark.py ' + ' '.join(argv)

        def work():
            if case['key'] not in self.configs_written:  # the first part of a case writes its flat config
                write_case_config(case, self.repo, config)
                self.configs_written.add(case['key'])
            try:
                return self.benchmark_main(argv)
            finally:
                if mode == 'compiled':
                    torch._dynamo.reset()  # the next case compiles its own teacher

        self.run_part(part, work)

    def run(self) -> dict:
        """All parts in order; returns the report (also written to ``out_dir``)."""
        from mmseg_kd.analysis.amp_training_run import amp_training_run

        os.makedirs(osp.join(self.out_dir, 'configs'), exist_ok=True)
        shutil.rmtree(osp.join(self.out_dir, 'amp_training'), ignore_errors=True)  # a fresh run every time
        for case in self.cases:
            for mode in TEACHER_MODES:
                self.benchmark_part(case, mode)
        part = dict(kind='amp_training', name='CWD demo distillation, tools/train.py --amp')
        self.run_part(part, lambda: amp_training_run(
            self.repo, osp.join(self.out_dir, 'amp_training'), self.device, self.size['train_iters'],
            timeout_s=max(self.budget_s - self.elapsed(), 60)))
        if self.compile_backend:
            for case in self.cases:
                self.benchmark_part(case, 'compiled')
        self.report['total_seconds'] = self.elapsed()
        self.write()
        return self.report

    def write(self) -> None:
        with open(osp.join(self.out_dir, JSON_FILE), 'w') as file:
            json.dump(self.report, file, indent=2)
        with open(osp.join(self.out_dir, TABLE_FILE), 'w') as file:
            file.write(markdown_table(self.report))


def failed_parts(report: dict) -> list:
    """Parts that failed, or whose training run did not finish with finite losses."""
    failed = [part for part in report['parts'] if part['status'] == 'failed']
    for part in report['parts']:
        result = part.get('result') or {}
        if part['kind'] == 'amp_training' and part['status'] == 'done' and not (
                result['returncode'] == 0 and result['finite'] and len(result['losses']) == result['iterations']):
            failed.append(part)
    return failed


def _benchmark_row(part: dict, size: dict) -> str:
    height, width = size['input_size']
    head = f"| {part['name']} | {height}x{width} | {part['teacher']} |"
    if part['status'] != 'done':
        return head + f" {part['status']}: {part.get('reason') or part.get('error')} |" + ' |' * 5
    result = part['result']
    seconds, memory = result['seconds'], result['peak_memory_mb']
    low, high = result['overhead_ratio_quartiles']
    compiled = result.get('teacher_compile')
    compile_cell = f"{compiled['first_call_seconds']:.1f}" if compiled else '–'
    return (head + f" {seconds['student'] * 1000:.1f} | {seconds['teacher'] * 1000:.1f} | "
            f"{seconds['distill'] * 1000:.1f} | {result['images_per_second']['distill']:.2f} | "
            f"**{result['overhead_ratio']:.3f}** ({low:.2f}–{high:.2f}) | "
            f"{memory['student']:.0f} / {memory['teacher']:.0f} / {memory['distill']:.0f} | {compile_cell} |")


def markdown_table(report: dict) -> str:
    """The report as the Markdown section of docs/benchmarks.md (device, versions, the command, the tables)."""
    size = report['size']
    cuda = f", CUDA {report['cuda']}" if report['cuda'] else ''
    lines = [f"## {report['device_name']} (torch {report['torch']}{cuda}, batch "
             f"{size['batch_size']}, median of {size['iters']} rounds after {size['warmup']} warm-up)", '',
             f"Measured with `{report['command']}` in {report.get('total_seconds', 0):.0f} s.", '',
             '| config | input | teacher | student step (ms) | teacher forward (ms) | distillation step (ms) | '
             'distill images/s | overhead (quartiles) | peak MB (student / teacher / distill) | first compiled '
             'call (s) |', '|---|---|---|---|---|---|---|---|---|---|']
    lines += [_benchmark_row(part, size) for part in report['parts'] if part['kind'].endswith('benchmark')]
    for part in report['parts']:
        if part['kind'] != 'amp_training':
            continue
        lines += ['', f"{part['name']}: {part['status']}"]
        result = part.get('result')
        if result:
            amp = 'with --amp (AmpOptimWrapper, float16)' if result['amp'] else f"({result['amp_note']})"
            losses = result['losses']
            lines[-1] = (f"{part['name']}: {result['iterations']} iterations {amp} in {result['seconds']:.1f} s "
                         f"(start-up included), exit status {result['returncode']}, losses finite: "
                         f"{result['finite']}" + (f', loss {losses[0]:.3f} → {losses[-1]:.3f}' if losses else ''))
        elif part['status'] != 'done':
            lines[-1] += f": {part.get('reason') or part.get('error')}"
    return '\n'.join(lines) + '\n'
