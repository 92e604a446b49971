"""Time a distillation step against its unavoidable cost: one student training step plus one teacher forward.

    python tools/analysis/benchmark.py CONFIG [--batch-size 2] [--input-size 512 1024] [--iters 20] [--warmup 5]
                                              [--device cuda] [--teacher-dtype bfloat16] [--iteration N]
                                              [--cached] [--compile-teacher inductor] [--out result.json]

On the current device, after warm-up, it times (``--iters`` rounds, the steps alternating within each round) three
steps on the same synthetic batch:

* ``student``: the student's training step alone (loss, backward, optimizer step);
* ``teacher``: the distiller's teacher forward alone (no_grad, only the parts its taps need);
* ``distill``: the full distillation step (teacher forward, student loss, distillation losses, backward, step);

* ``cached`` (with ``--cached``): the distillation step with the teacher's logits served as by a teacher cache
  (``teacher=dict(..., cache=DIR)``, ``docs/teacher_cache.md``): the batch carries them, no teacher forward runs.
  The pipeline's reading and resampling of the cached maps happen in the data loader's workers and are not in it;

and reports images/s, the overhead ratio ``t(distill) / (t(student) + t(teacher))`` (the median over rounds of each
round's ratio, with its quartiles; also the ratio of the median times), the cost of a distillation step in student
steps ``t(distill) / t(student)`` (median over rounds, with quartiles: what ``compute_budget`` reads, see
``mmseg_kd/engine/compute_budget.py``) and the peak memory of each step
(CUDA: ``max_memory_allocated`` above the memory in use before the step; CPU: the process's peak resident memory
while the step runs, above its resident memory before it, using Linux's resettable high-water mark). Output: a table
(median times), and JSON with ``--out``. The teacher's weights do not change the timings, so the teacher checkpoint is
not loaded. ``--compile-teacher BACKEND`` times the teacher ``torch.compile``'d (the first call, compilation
included, is reported apart and not timed with the steps). The steps run at training iteration ``--iteration``
(default: the middle of the config's schedule), so loss-weight schedules and a connector warm-up are where a run
spends most steps.
"""
import argparse
import json
import os
import statistics
import time
import warnings

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_kd  # noqa: F401
from mmseg_kd.analysis.peak_memory import PeakMemory
from mmseg_kd.analysis.teacher_compile import compile_teacher
from mmseg_kd.distillers.cached_teacher import CACHED_TAP, CachedTeacherLogits
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.engine.compute_budget import model_fingerprint
from mmseg_kd.engine.input_sizes import training_size
from mmseg_kd.utils.config_keys import merge_checked_options

STEPS = ('student', 'teacher', 'distill')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('config', help='a distillation config (model.type=SegDistiller)')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--input-size', type=int, nargs=2, default=None, metavar=('H', 'W'),
                        help='default: the size the config trains at (the training crop, else data_preprocessor.size, '
                        'else the first training sample)')
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per step (median reported)')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--teacher-dtype', choices=['float32', 'bfloat16', 'float16'], default=None,
                        help='override model.teacher.autocast_dtype')
    parser.add_argument('--iteration', type=int, default=None,
                        help="training iteration the steps run at (default: half of the config's max_iters)")
    parser.add_argument('--cached', action='store_true',
                        help="also time the step with the teacher's logits served from a cache (logit taps only)")
    parser.add_argument('--compile-teacher', metavar='BACKEND', default=None,
                        help="torch.compile the teacher with this backend ('inductor'); its first call is timed apart")
    parser.add_argument('--out', help='write the results as JSON to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def build_distiller(args):
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        merge_checked_options(cfg, args.cfg_options)
    if not is_distiller_config(cfg.model):
        raise SystemExit(f'{args.config} is not a distillation config (model.type is {cfg.model.get("type")})')
    cfg.model.teacher.checkpoint = None
    cfg.model.teacher.pop('cache', None)  # a cached config is timed as its online twin; --cached adds the cached step
    if args.teacher_dtype:
        cfg.model.teacher.autocast_dtype = None if args.teacher_dtype == 'float32' else args.teacher_dtype
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='.*RANDOMLY INITIALISED.*')
        distiller = MODELS.build(cfg.model)
    if args.input_size:
        size, source = tuple(args.input_size), '--input-size'
    else:
        size, source = training_size(cfg)
    print(f'input size {size[0]}x{size[1]} (from {source})', flush=True)
    max_iters = cfg.get('train_cfg', {}).get('max_iters', 2)
    iteration = max_iters // 2 if args.iteration is None else args.iteration
    MessageHub.get_current_instance().update_info_dict(dict(iter=iteration, max_iters=max_iters))
    return revert_sync_batchnorm(distiller).to(args.device), size, iteration, model_fingerprint(cfg.model)


def synthetic_batch(distiller, batch_size: int, size, device):
    num_classes = distiller.student.decode_head.num_classes
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(batch_size, 3, *size, generator=generator).to(device)
    samples = []
    for _ in range(batch_size):
        labels = torch.randint(0, num_classes, (1, *size), generator=generator)
        sample = SegDataSample(gt_sem_seg=PixelData(data=labels.to(device)))
        sample.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(sample)
    return inputs, samples


def with_cached_teacher_logits(distiller, inputs, samples):
    """Copies of ``samples`` carrying the teacher's logits (``gt_teacher_logits``), as the cache's pipeline gives
    them, and the :class:`CachedTeacherLogits` that serves them."""
    uncached = CachedTeacherLogits.uncached_taps({name: term.taps['teacher'] for name, term in distiller.terms.items()})
    if uncached:
        raise SystemExit(f"--cached: a teacher cache holds the teacher's logits only; these entries tap other "
                         f"teacher tensors: {'; '.join(uncached)}")
    distiller.teacher_forward(inputs)
    logits = distiller.teacher_recorder.get(CACHED_TAP)
    distiller.teacher_recorder.clear()
    cached_samples = []
    for sample, sample_logits in zip(samples, logits):
        cached = sample.clone()
        cached.gt_teacher_logits = PixelData(data=sample_logits.detach().clone())
        cached_samples.append(cached)
    return cached_samples, CachedTeacherLogits(round(inputs.shape[2] / logits.shape[2]))


def step_functions(distiller, inputs, samples, cached: bool = False):
    """The measured steps as closures (each a complete unit of work)."""
    student_optimizer = torch.optim.SGD(distiller.student.parameters(), lr=1e-6, momentum=0.9)
    distill_optimizer = torch.optim.SGD(distiller.parameters(), lr=1e-6, momentum=0.9)

    def train_step(optimizer, losses):
        optimizer.zero_grad(set_to_none=True)
        sum(value for key, value in losses.items() if 'loss' in key).backward()
        optimizer.step()

    steps = {
        'student': lambda: train_step(student_optimizer, distiller.student.loss(inputs, samples)),
        'teacher': lambda: distiller.teacher_forward(inputs),
        'distill': lambda: train_step(distill_optimizer, distiller.loss(inputs, samples)),
    }
    if cached:
        cached_samples, cache = with_cached_teacher_logits(distiller, inputs, samples)

        def cached_step():
            distiller.teacher_cache = cache
            try:
                train_step(distill_optimizer, distiller.loss(inputs, cached_samples))
            finally:
                distiller.teacher_cache = None

        steps['cached'] = cached_step
    return steps


def synchronize(device):
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()


def time_steps(steps: dict, iters: int, warmup: int, device) -> dict:
    """Seconds of each step in every round. The steps alternate within a round, so a load spike on a shared
    machine slows all of them alike instead of one block of measurements."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    times = {name: [] for name in steps}
    for _ in range(iters):
        for name, step in steps.items():
            synchronize(device)
            start = time.perf_counter()
            step()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return times


def quartiles(values) -> dict:
    low, median, high = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return dict(q1=low, median=median, q3=high)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    load_before = os.getloadavg()[0]
    distiller, size, iteration, fingerprint = build_distiller(args)
    distiller.train()
    inputs, samples = synthetic_batch(distiller, args.batch_size, size, args.device)
    compile_seconds = None if args.compile_teacher is None else compile_teacher(distiller, inputs,
                                                                                 args.compile_teacher)
    steps = step_functions(distiller, inputs, samples, args.cached)

    rounds, memory = time_steps(steps, args.iters, args.warmup, args.device), {}
    seconds = {name: statistics.median(values) for name, values in rounds.items()}
    round_ratios = [distill / (student + teacher)
                    for student, teacher, distill in zip(*(rounds[name] for name in STEPS))]
    for name in steps:
        with PeakMemory(args.device) as peak:
            steps[name]()
        memory[name] = peak.megabytes

    spread = quartiles(round_ratios)
    cost = quartiles([distill / student for student, distill in zip(rounds['student'], rounds['distill'])])
    result = dict(
        config=args.config, device=str(args.device),
        device_name=torch.cuda.get_device_name() if str(args.device).startswith('cuda') else 'cpu',
        torch=torch.__version__, batch_size=args.batch_size, input_size=list(size), iters=args.iters,
        training_iteration=iteration,
        teacher_dtype=str(distiller.teacher_autocast_dtype or 'float32').replace('torch.', ''),
        teacher_channels_last=distiller.teacher_channels_last,
        teacher_compile=None if compile_seconds is None else dict(backend=args.compile_teacher,
                                                                  first_call_seconds=compile_seconds),
        seconds=seconds, images_per_second={k: args.batch_size / v for k, v in seconds.items()},
        peak_memory_mb=memory, overhead_ratio=spread['median'],
        overhead_ratio_quartiles=[spread['q1'], spread['q3']],
        overhead_ratio_of_median_times=seconds['distill'] / (seconds['student'] + seconds['teacher']),
        distill_cost_in_student_steps=cost['median'],
        distill_cost_in_student_steps_quartiles=[cost['q1'], cost['q3']],
        model_fingerprint=fingerprint, load_average=[load_before, os.getloadavg()[0]])
    if args.cached:
        cached_cost = quartiles([cached / student for student, cached in zip(rounds['student'], rounds['cached'])])
        result.update(cached_cost_in_student_steps=cached_cost['median'],
                      cached_cost_in_student_steps_quartiles=[cached_cost['q1'], cached_cost['q3']])
    print(f"\n{args.config}\n{result['device_name']}, batch {args.batch_size}, {size[0]}x{size[1]}, "
          f"teacher {result['teacher_dtype']}{', compiled' if compile_seconds else ''}, median of {args.iters} "
          f"after {args.warmup} warm-up\n")
    print('| step | time (ms) | images/s | peak memory (MB) |\n|---|---|---|---|')
    for name in steps:
        print(f"| {name} | {seconds[name] * 1000:.1f} | {result['images_per_second'][name]:.2f} | "
              f'{memory[name]:.0f} |')
    print(f"\noverhead ratio t(distill) / (t(student) + t(teacher)) = {spread['median']:.3f} (median over rounds; "
          f"quartiles {spread['q1']:.3f}-{spread['q3']:.3f}, a wide spread means a busy machine; ratio of the "
          f"median times {result['overhead_ratio_of_median_times']:.3f})")
    print(f"one distillation step costs {cost['median']:.3f} student steps t(distill) / t(student) (median over "
          f"rounds; quartiles {cost['q1']:.3f}-{cost['q3']:.3f}); load average {load_before:.2f} before, "
          f'{result["load_average"][1]:.2f} after')
    if args.cached:
        print(f"with the teacher's logits from a cache, one step costs {cached_cost['median']:.3f} student steps "
              f"t(cached) / t(student) (median over rounds; quartiles {cached_cost['q1']:.3f}-"
              f"{cached_cost['q3']:.3f}; the pipeline's reading of the cache, in the data loader, not included)")
    if compile_seconds is not None:
        print(f'first compiled teacher call ({args.compile_teacher}, compilation included): {compile_seconds:.1f} s')
    if args.out:
        with open(args.out, 'w') as file:
            json.dump(result, file, indent=2)
    return result


if __name__ == '__main__':
    main()
