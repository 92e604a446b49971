"""Training at equal compute: ``compute_budget`` turns a budget in student steps into the run's iterations.

A distillation step costs more than a step of the student alone (the teacher's forward pass, the losses, any
connectors). Comparing a distilled student with the student alone at the same number of iterations hands the
distilled run more compute; at equal compute the student alone gets as many more iterations as a distillation step
costs. A config states its budget in *student steps*, the cost of one training step of the student alone::

    compute_budget = dict(
        student_steps=600,                       # the budget: 600 steps of the student alone
        step_costs='step_costs/my_config.json')  # distillation configs: what one of their steps costs

and ``tools/train.py`` sets ``train_cfg.max_iters`` to ``round(student_steps / cost)``, where ``cost`` is the
measured cost of one training step of this config in student steps: 1 for a plain segmentor; for a distiller the
``distill_cost_in_student_steps`` of a JSON written by ``tools/analysis/benchmark.py CONFIG --out FILE`` (the
median over timed rounds of t(distillation step) / t(student step), on the config's batch and crop size). The
measurement is done once and read from the file, so a rerun (or a resumed run) trains the same number of
iterations; the file records the device, the batch, the input size and a fingerprint of the models and losses, and
a file measured for anything else is refused.

The schedule follows the new length the way mmseg's 40k and 80k schedules differ: every ``param_scheduler`` that
ended at the old ``max_iters`` ends at the new one, and a validation or checkpoint interval equal to the old length
becomes the new length; warm-ups and other iteration counts keep their values (and must lie inside the new length).
The budget, the cost and the iterations are printed and written to ``<work_dir>/compute_budget.json``.

The cost counts the model's work (forward passes, losses, backward, optimizer step) as the benchmark times it on one
batch; data loading, logging and validation come on top in both runs alike.

A distiller with an offline teacher (``teacher=dict(..., cache=DIR)``, ``docs/teacher_cache.md``) pays for its
teacher once, before training: its step cost is the record's ``cached_cost_in_student_steps`` (``benchmark.py
--cached``, which times the config as its online twin, so the fingerprint leaves ``cache`` out), and the cache's
one-off cost comes off the budget first::

    one_off = cache seconds (the cache manifest's ``seconds``, summed over its processes)
              / t(student step) (the record's ``seconds.student``, same device)
    iterations = round((student_steps - one_off) / cached cost)

``count_teacher_cache=False`` leaves the one-off cost out (a cache already paid for by other runs); the record says
which was done.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict

from mmseg_kd.datasets.teacher_logit_cache import read_manifest
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.distillers.seg_distiller import is_distiller_config
from mmseg_kd.engine.input_sizes import training_size
from mmseg_kd.utils.user_input_error import UserInputError

# Keys of the distiller's teacher entry that do not change what a step costs.
COST_NEUTRAL_TEACHER_KEYS = ('checkpoint', 'checkpoint_sha256', 'checkpoint_cache_dir', 'allow_unsafe_checkpoint')
# Keys of a student/teacher entry that say where its model config comes from: the fingerprint holds the resolved
# model config instead, so that it does not depend on the folder the configs lie in.
MODEL_SOURCE_KEYS = ('cfg_path', 'cfg_options', 'model')
RECORD_FILE = 'compute_budget.json'
MEASURE_HINT = ('measure it with: python tools/analysis/benchmark.py CONFIG --batch-size B --input-size H W '
                '--device DEVICE --out FILE (B, H x W: the batch and crop size the config trains with; add --cached '
                'for a config with teacher.cache)')
BUDGET_KEYS = ('student_steps', 'step_costs', 'count_teacher_cache')


def _plain(value):
    """``value`` with ConfigDicts turned into dicts and tuples into lists (the JSON view of a config entry)."""
    if isinstance(value, (dict, ConfigDict)):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def model_fingerprint(model_cfg: dict) -> str:
    """A hash of what decides a distillation step's cost: the resolved student and teacher model configs and the
    rest of the distiller's config (losses, connectors, teacher precision); not the teacher's checkpoint, nor where
    the model configs lie (a ``cfg_path`` with ``{{fileDirname}}`` is an absolute path), nor a teacher ``cache``
    (a cached config is measured as its online twin, whose record holds both step costs)."""
    model_cfg = _plain(model_cfg)
    teacher = {key: value for key, value in model_cfg['teacher'].items()
               if key not in COST_NEUTRAL_TEACHER_KEYS + MODEL_SOURCE_KEYS + ('cache',)}
    described = dict(model_cfg, student=_plain(resolve_model_config(model_cfg['student'], 'student')),
                     teacher=dict(teacher, model=_plain(resolve_model_config(model_cfg['teacher'], 'teacher'))))
    text = json.dumps(described, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserInputError(f'compute_budget.{name} must be a positive integer (a number of student steps), '
                             f'got {value!r}')
    return value


def read_step_costs(cfg: Config, path: str, cost_key: str = 'distill_cost_in_student_steps') -> dict:
    """The benchmark record at ``path``, checked against the config it is to budget; ``cost_key`` names the step
    cost the budget reads (``cached_cost_in_student_steps`` for a cached teacher)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'compute_budget.step_costs: {path!r} does not exist; {MEASURE_HINT}')
    with open(path) as file:
        record = json.load(file)
    cost = record.get(cost_key)
    if not isinstance(cost, (int, float)) or cost <= 0:
        cached = ' (a config with teacher.cache needs a record of benchmark.py --cached)' \
            if cost_key.startswith('cached') else ''
        raise UserInputError(f'compute_budget.step_costs: {path} has no positive {cost_key}{cached} (not a record of '
                             f'tools/analysis/benchmark.py --out?); {MEASURE_HINT}')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    expected = dict(model_fingerprint=model_fingerprint(cfg.model),
                    batch_size=cfg.train_dataloader.get('batch_size'), input_size=list(training_size(cfg)[0]))
    wrong = [f'{key} {record.get(key)!r} (this config: {value!r})' for key, value in expected.items()
             if value is not None and record.get(key) != value]
    if str(record.get('device', '')).split(':')[0] != device:
        wrong.append(f"device {record.get('device')!r} (this run: {device!r})")
    if record.get('teacher_compile') is not None:
        wrong.append(f"a compiled teacher ({record['teacher_compile'].get('backend')!r}; training runs it uncompiled)")
    if wrong:
        raise UserInputError(f'compute_budget.step_costs: {path} was measured for something else: '
                             f"{'; '.join(wrong)}. A fingerprint differs when the student, teacher or losses changed. "
                             f'Measure this config again: {MEASURE_HINT.replace("measure it with: ", "")}')
    return record


def teacher_cache_student_steps(cache: str, record: dict) -> float:
    """The one-off cost of the teacher cache in ``cache``, in student steps of ``record`` (a benchmark record).

    Raises:
        UserInputError: the manifest has no measured time, or was written on another device than the record's.
    """
    manifest = read_manifest(cache)
    seconds, device = manifest.get('seconds'), str(manifest.get('device', ''))
    fix = ('write the cache again with tools/cache_teacher.py, or leave its cost out with '
           'compute_budget.count_teacher_cache=False')
    if not isinstance(seconds, (int, float)) or seconds < 0:
        raise UserInputError(f'compute_budget: the teacher cache {cache!r} records no time spent writing it '
                             f'(manifest seconds {seconds!r}), so its one-off cost cannot be counted; {fix}.')
    record_device = str(record.get('device', '')).split(':')[0]
    if device.split(':')[0] != record_device:
        raise UserInputError(f'compute_budget: the teacher cache {cache!r} was written on {device!r}, the step costs '
                             f'were measured on {record_device!r}: its seconds cannot be turned into student steps; '
                             f'{fix}.')
    return seconds / float(record['seconds']['student'])


def _budgeted_iterations(cfg: Config, budget: dict) -> dict:
    unknown = set(budget) - set(BUDGET_KEYS)
    if unknown:
        raise UserInputError(f'compute_budget: unknown keys {sorted(unknown)}; it takes {", ".join(BUDGET_KEYS)}')
    student_steps = _positive_int(budget.get('student_steps'), 'student_steps')
    count_cache = budget.get('count_teacher_cache', True)
    if not isinstance(count_cache, bool):
        raise UserInputError(f'compute_budget.count_teacher_cache must be True or False, got {count_cache!r}')
    if not is_distiller_config(cfg.model):
        return dict(student_steps=student_steps, cost_in_student_steps=1.0, iterations=student_steps,
                    step_costs=None)
    path = budget.get('step_costs')
    if not path:
        raise UserInputError('compute_budget: a distillation config needs step_costs=FILE, the measured cost of its '
                             f'steps in student steps; {MEASURE_HINT}')
    cache = cfg.model.teacher.get('cache')
    cost_key = 'cached_cost_in_student_steps' if cache else 'distill_cost_in_student_steps'
    record = read_step_costs(cfg, path, cost_key)
    cost = float(record[cost_key])
    one_off = teacher_cache_student_steps(cache, record) if cache and count_cache else 0.0
    if one_off >= student_steps:
        raise UserInputError(f'compute_budget: writing the teacher cache {cache!r} cost {one_off:.1f} student steps, '
                             f'the whole budget of {student_steps}: raise student_steps, or leave the cache out with '
                             'compute_budget.count_teacher_cache=False if other runs paid for it.')
    decided = dict(student_steps=student_steps, cost_in_student_steps=cost,
                   iterations=max(1, round((student_steps - one_off) / cost)), step_costs=path,
                   measured_on=record.get('device_name', record.get('device')),
                   measured_load_average=record.get('load_average'),
                   cost_quartiles=record.get(f'{cost_key}_quartiles'))
    if cache:
        decided.update(teacher_cache=cache, teacher_cache_counted=count_cache, teacher_cache_student_steps=one_off)
    return decided


def _stretch_schedule(cfg: Config, old: int, new: int) -> None:
    """Schedule ends and intervals equal to the old run length move to the new one; nothing else may reach it."""
    schedulers = cfg.get('param_scheduler') or []
    for index, scheduler in enumerate([schedulers] if isinstance(schedulers, dict) else schedulers):
        if scheduler.get('by_epoch', True):  # mmengine's default is by_epoch=True
            raise UserInputError(f'compute_budget counts iterations, but param_scheduler[{index}] counts epochs: give '
                                 'it by_epoch=False and begin/end in iterations')
        if scheduler.get('end') == old:
            scheduler['end'] = new
        for key in ('begin', 'end'):
            if key in scheduler and scheduler[key] > new:
                raise UserInputError(f'compute_budget: param_scheduler[{index}].{key}={scheduler[key]} lies beyond the '
                                     f'budgeted {new} iterations; shorten it or raise the budget')
    if cfg.train_cfg.get('val_interval') == old:
        cfg.train_cfg.val_interval = new
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint and checkpoint.get('interval') == old:
        checkpoint['interval'] = new


def apply_compute_budget(cfg: Config) -> Optional[dict]:
    """Set the run's iterations from ``cfg.compute_budget`` (if the config has one) and return what was decided.

    Raises :class:`UserInputError` for a malformed budget, a step-cost file that belongs to another config, a loop that
    does not count iterations, a schedule entry beyond the new length, or a resumed run whose work dir was
    budgeted to another length.
    """
    budget = cfg.get('compute_budget')
    if budget is None:
        return None
    if not isinstance(budget, dict):
        raise UserInputError(f'compute_budget must be a dict such as dict(student_steps=600, step_costs=FILE), '
                             f'got {budget!r}')
    if cfg.train_cfg.get('type', 'IterBasedTrainLoop') != 'IterBasedTrainLoop' or 'max_iters' not in cfg.train_cfg:
        raise UserInputError('compute_budget sets train_cfg.max_iters: it needs an IterBasedTrainLoop with max_iters '
                             f'(this config: {dict(cfg.train_cfg)})')
    decided = _budgeted_iterations(cfg, budget)
    old, new = cfg.train_cfg.max_iters, decided['iterations']
    _stretch_schedule(cfg, old, new)
    cfg.train_cfg.max_iters = new
    record_path = osp.join(cfg.work_dir, RECORD_FILE)
    if cfg.get('resume') and osp.isfile(record_path):
        with open(record_path) as file:
            before = json.load(file).get('iterations')
        if before != new:
            raise UserInputError(f'compute_budget: {record_path} says this run was budgeted {before} iterations, now '
                                 f'it would get {new} (a changed budget or step-cost file); resume with the same '
                                 'budget or start a new work dir')
    os.makedirs(cfg.work_dir, exist_ok=True)
    with open(record_path, 'w') as file:
        json.dump(decided, file, indent=2)
    cost = decided['cost_in_student_steps']
    cache_note = ''
    if decided.get('teacher_cache'):
        cache_note = (f"; the teacher cache's one-off cost, {decided['teacher_cache_student_steps']:.1f} student "
                      'steps, comes off the budget' if decided['teacher_cache_counted'] else
                      "; the teacher cache's one-off cost is not counted (count_teacher_cache=False)")
    print(f"compute budget: {decided['student_steps']} student steps; one step of this config costs {cost:.3f} "
          f"student steps ({decided['step_costs'] or 'a plain segmentor'}){cache_note}: training {new} iterations "
          f'(config: {old}); written to {record_path}', flush=True)
    return decided
