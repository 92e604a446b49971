"""The docs cannot silently rot: every shell command in docs/*.md runs here, or names what runs it.

The ```bash blocks of the docs are read in reading order (:data:`DOC_ORDER`) and:

* the repository's tools (``python tools/...``), ``python -m pytest`` and ``cp`` run, in document order,
  in a sandbox: a temporary folder with copies of ``configs/``, ``distillation_configs/``, ``tools/`` and
  ``mmseg_kd/`` (on ``PYTHONPATH``), and what ``make demo`` leaves that the docs build on (the teacher
  checkpoint: the one the tests save, as in test_tools.py). Small settings keep them short:

  - every ``tools/train.py`` run trains 1 iteration (batch 2, as BN needs), validating and saving a
    checkpoint at it, so the ``iter_N.pth`` the docs name is ``iter_1.pth`` here;
  - the demo data generator writes 2 training (1 labeled) and 2 validation scenes;

* a ```python block whose first line is a comment naming a file (``# my_configs/x.py``) is written to that
  path of the sandbox where it appears: the configs and code the docs show are what runs;
* a ```text block right after a ```bash block lists lines that the block's last command prints (``...``
  skips lines);
* a command after a comment saying ``exit status 1`` must exit with 1 (a check that finds a problem);
  every other command must succeed;
* the PNGs the commands write (``--out FILE.png``, ``--out-dir DIR``) must be real pictures of the
  documented size;
* commands that do not run here are in :data:`COVERED_ELSEWHERE`, each with what runs it and the evidence
  (text that must be in that file: ``make demo``'s steps in tools/demo.py, a test), or as the same tool
  with the same options as a command that runs here (the tools on ``make demo``'s outputs). Every entry
  must still match a documented command.

The other ```python blocks must compile, and the loss and schedule snippets of methods.md must build.
"""
import ast
import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from mmengine.config import Config
from PIL import Image

from conftest import REPO
from image_checks import assert_real_png

DOCS = REPO / 'docs'
DOC_ORDER = ('getting_started.md', 'architecture.md', 'writing_a_distillation_config.md', 'adding_a_loss.md',
             'datasets.md', 'unlabeled_images.md', 'teacher_cache.md', 'methods.md', 'reliability.md', 'benchmarks.md',
             'gpu_report.md', 'teachers.md', 'model_converters.md', 'reproducing_the_papers.md')
SANDBOX_COPIES = ('configs', 'distillation_configs', 'tools', 'mmseg_kd')
SMALL_TRAINING = ['--cfg-options', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1',
                  'default_hooks.checkpoint.interval=1', 'param_scheduler.0.end=1',
                  'train_dataloader.batch_size=2']
SMALL_DATA = ['--num-train', '2', '--num-val', '2', '--num-labeled', '1']
DEMO_TEACHER = 'work_dirs/demo/teacher_pspnet_r101.pth'
FILE_HEADER = re.compile(r'^# ([\w./-]+\.py)$')



@dataclass(frozen=True)
class Coverage:
    """Documented commands starting with ``prefix`` do not run here; ``covered_by`` runs them.

    ``evidence``: (repository file, text it must contain) pairs that show it. ``same_options_as_a_run``:
    the same tool with the same options runs here on other inputs (checked).
    """
    prefix: str
    covered_by: str
    evidence: Tuple[Tuple[str, str], ...] = ()
    same_options_as_a_run: bool = False


DEMO = 'tools/demo.py'
COVERED_ELSEWHERE = (
    Coverage('make install', 'the first step of `make demo` and `make test`',
             (('Makefile', 'demo: install'), ('Makefile', 'test: install'))),
    Coverage('make demo', '`make demo` itself', (('Makefile', '$(PY) tools/demo.py'),)),
    Coverage('make test', 'this test suite', (('Makefile', '$(PY) -m pytest'),)),
    Coverage('source .venv/bin/activate', 'shell set-up of the environment `make install` creates',
             (('Makefile', 'VENV   ?= .venv'),)),
    Coverage('tensorboard --logdir', 'TensorBoard; the event files it reads are checked by test_tools.py',
             (('tests/test_tools.py', 'def test_tensorboard_event_file_has_every_loss_lr_and_miou('),)),
    Coverage('python tools/train.py configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py',
             '`make demo` (trains the teacher)',
             ((DEMO, "TEACHER_CFG = 'configs/demo/pspnet_r101-d8_demo-cityscapes-64x128.py'"),
              (DEMO, "train(TEACHER_CFG, 'teacher', f'compute_budget.student_steps={args.teacher_iters}')"),
              (DEMO, "run_tool_process('tools/train.py', config, '--work-dir', osp.join(WORK, name)"))),
    Coverage('cp work_dirs/demo/teacher/', '`make demo` (copies the teacher checkpoint)',
             ((DEMO, "TEACHER_CKPT = osp.join(WORK, 'teacher_pspnet_r101.pth')"),
              (DEMO, "shutil.copy(osp.join(WORK, 'teacher'"))),
    Coverage('python tools/train.py configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py',
             '`make demo` (trains the student on 8 labeled scenes at the compute budget)',
             ((DEMO, "FEW_LABELS_CFG = 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py'"),
              (DEMO, "('few_labels', FEW_LABELS_CFG"),
              (DEMO, "budget = [f'compute_budget.student_steps={args.student_steps}'"))),
    Coverage('python tools/train.py distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_'
             'cityscapes.py',
             '`make demo` (distils the student on 8 labeled and 248 unlabeled scenes at the compute budget)',
             ((DEMO, "UNLABELED_KD_CFG = 'distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_"
                     "cityscapes.py'"),
              (DEMO, "('few_labels_kd', UNLABELED_KD_CFG"),
              (DEMO, "options += teacher + [f'compute_budget.step_costs={step_costs_file(distilled, "
                     "args.measure_step_costs)}']"))),
    Coverage('python tools/test.py distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled_'
             'cityscapes.py',
             '`make demo` (evaluates the distilled student)',
             ((DEMO, "run_tool_process('tools/test.py', config, checkpoint"),
              (DEMO, "evaluate(config, checkpoint, name)"))),
    Coverage('python tools/train.py configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py',
             '`make demo` (trains the student on every labeled scene at the compute budget)',
             ((DEMO, "STUDENT_CFG = 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128.py'"),
              (DEMO, "('all_labels', STUDENT_CFG"))),
    Coverage('python tools/train.py distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py',
             '`make demo` (distils the student on every labeled scene at the compute budget)',
             ((DEMO, "DISTILL_CFG = 'distillation_configs/cwd/cwd_pspnet-r101_pspnet-r18_demo_cityscapes.py'"),
              (DEMO, "('all_labels_cwd', DISTILL_CFG"))),
    Coverage('python tools/cache_teacher.py', 'tests/test_teacher_cache.py (caches 6 scenes, dense and top-5, resumes '
             'an interrupted cache; the documented run needs the demo teacher)',
             (('tests/test_teacher_cache.py', "run(PYTHON, 'tools/cache_teacher.py', CACHED_CFG"),
              ('tests/test_teacher_cache.py', "r101_checkpoint, '--top-k', '5')"))),
    Coverage('bash tools/dist_cache_teacher.sh ', 'tests/test_teacher_cache.py (the tool with 2 CPU processes on 6 '
             'scenes, compared with the one-process cache; the documented run needs the demo teacher)',
             (('tests/test_teacher_cache.py', "run('bash', 'tools/dist_cache_teacher.sh', CACHED_CFG, 2"),)),
    Coverage('python tools/train.py distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-unlabeled-cached_'
             'cityscapes.py', 'tests/test_teacher_cache.py (trains 2 iterations from a cache, the teacher file absent)',
             (('tests/test_teacher_cache.py', 'def test_train_py_distils_from_the_cache_alone('),)),
    Coverage('python tools/analysis/teacher_cache_fidelity.py', 'tests/test_teacher_cache.py (measures the test cache)',
             (('tests/test_teacher_cache.py', "run(PYTHON, 'tools/analysis/teacher_cache_fidelity.py'"),)),
    Coverage('python tools/dataset_converters/cityscapes.py', 'tests/test_datasets.py (converts a miniature copy of '
             'the official layout, then trains and evaluates on it)',
             (('tests/test_datasets.py', "run(PYTHON, 'tools/dataset_converters/cityscapes.py', root)"),)),
    Coverage('python tools/analysis/benchmark.py', 'tests/test_performance.py (runs the benchmark on the CPU)',
             (('tests/test_performance.py', "'tools/analysis/benchmark.py'"),)),
    Coverage('python tools/analysis/gpu_report.py', 'tests/test_gpu_report.py (the same parts on the CPU at the tiny '
             'size; the full run needs a GPU and minutes)',
             (('tests/test_gpu_report.py', "'tools/analysis/gpu_report.py', '--device', 'cpu', '--tiny'"),)),
    Coverage('python tools/model_converters/cirkd2mmseg.py', 'tests/test_paper_architectures.py (runs it on a file '
             "in CIRKD's layout; the converters need the authors' downloads)",
             (('tests/test_paper_architectures.py', "'tools/model_converters/cirkd2mmseg.py'"),)),
    Coverage('python tools/model_converters/deeplabv3plus2mmseg.py', 'tests/test_paper_architectures.py (the '
             "tool's run_converter call on a file in the lineage's layout)",
             (('tools/model_converters/deeplabv3plus2mmseg.py', "run_converter('deeplabv3plus2mmseg', "
               'convert_deeplabv3plus_checkpoint'),
              ('tests/test_paper_architectures.py', "run_converter('deeplabv3plus2mmseg', "
               'convert_deeplabv3plus_checkpoint'))),
    Coverage('python tools/model_converters/segdistill2mmseg.py', 'tests/test_paper_architectures.py (the '
             "tool's run_converter call)",
             (('tools/model_converters/segdistill2mmseg.py', "run_converter('segdistill2mmseg', "
               'convert_segdistill_checkpoint'),
              ('tests/test_paper_architectures.py', "run_converter('segdistill2mmseg', "
               'convert_segdistill_checkpoint'))),
    Coverage('python tools/learn_receptive_tokens.py distillation_configs/maskd/',
             "tests/test_receptive_tokens.py (the tool on generated data with the demo teacher; the paper's run needs "
             'Cityscapes and the converted teacher)',
             (('tests/test_receptive_tokens.py', "[PYTHON, 'tools/learn_receptive_tokens.py', str(config)"),)),
    Coverage('bash tools/dist_train.sh ', 'tests/test_cirkd_distributed.py and tests/test_datasets.py (the tool with 2 '
             "CPU processes; the papers' runs need their datasets, teachers and GPUs)",
             (('tests/test_cirkd_distributed.py', "run('bash', 'tools/dist_train.sh', setup['config'], 2"),
              ('tests/test_datasets.py', "run('bash', 'tools/dist_train.sh', config, 2"))),
    Coverage('MMSEG_KD_LINEAGE_EVALUATION=shorter_side_513 python tools/test.py',
             "tests/test_paper_protocol_configs.py (the variable's pipeline on a real image; tools/test.py runs in "
             'the guides)',
             (('tests/test_paper_protocol_configs.py',
               'def test_shorter_side_513_evaluation_resizes_the_labels_and_compares_there('),)),
    Coverage('python tools/fetch_teacher.py', 'tests/test_checkpoint_download.py (the tool against a loopback HTTP '
             'server: --check on an empty cache, then the download; the zoo needs the internet)',
             (('tests/test_checkpoint_download.py', 'def test_fetch_teacher_tool_checks_then_fills_the_cache('),)),
    Coverage('python tools/analysis/plot_logs.py work_dirs/demo/', "the guide's run of plot_logs.py",
             same_options_as_a_run=True),
    Coverage('python tools/analysis/visualize.py distillation_configs/kd/kd_pspnet-r101_pspnet-r18_demo-8labeled-'
             'unlabeled_cityscapes.py work_dirs/demo/', "the guide's run of visualize.py", same_options_as_a_run=True),
)

# Picture layouts, as documented in tools/analysis/plot_logs.py and visualize.py.
PLOT_WIDTH, PLOT_PANEL_HEIGHT = 800, 250
FIGURE_WIDTH, PANEL, TITLE, LEGEND = 1200, 300, 50, 50


@dataclass
class Block:
    doc: str
    line: int
    lang: str
    text: str


@dataclass
class Command:
    doc: str
    line: int
    text: str
    tokens: List[str]
    comment: str
    expected_output: List[str] = field(default_factory=list)

    @property
    def expected_status(self) -> int:
        return 1 if 'exit status 1' in self.comment else 0

    @property
    def runnable(self) -> bool:
        """A repository tool, pytest or cp: can run in the sandbox."""
        tokens = self.tokens
        python_tool = tokens[:1] == ['python'] and len(tokens) > 1 and (
            tokens[1].startswith('tools/') or tokens[1:3] == ['-m', 'pytest'])
        return python_tool or tokens[:1] == ['cp']

    def where(self) -> str:
        return f'docs/{self.doc}:{self.line}: {self.text}'


def fenced_blocks(doc: str) -> List[Block]:
    """The fenced code blocks of a doc, with their language and first line number."""
    blocks, current = [], None
    for number, line in enumerate((DOCS / doc).read_text().splitlines(), 1):
        if line.startswith('```'):
            if current is None:
                current = Block(doc, number + 1, line[3:].strip(), '')
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.text += line + '\n'
    assert current is None, f'docs/{doc}: unclosed code block starting at line {current.line}'
    return blocks


def commands_of(block: Block) -> List[Command]:
    """The commands of a bash block: continuation lines joined; a comment line belongs to the next command."""
    commands, pending, comment, start = [], '', '', block.line
    for offset, line in enumerate(block.text.splitlines()):
        if not pending:
            start = block.line + offset
        if line.endswith('\\'):
            pending += line[:-1] + ' '
            continue
        text, pending = (pending + line).strip(), ''
        if text.startswith('#'):
            comment += text.lstrip('#').strip() + ' '
            continue
        if text:
            trailing = text.split(' #', 1)[1].strip() if ' #' in text else ''
            tokens = shlex.split(text, comments=True)
            commands.append(Command(block.doc, start, ' '.join(tokens), tokens, (comment + trailing).strip()))
        comment = ''
    return commands


def doc_steps():
    """Every bash command and every file-writing python block, in reading order."""
    steps = []
    for doc in DOC_ORDER:
        blocks = fenced_blocks(doc)
        for index, block in enumerate(blocks):
            if block.lang == 'bash':
                commands = commands_of(block)
                following = blocks[index + 1] if index + 1 < len(blocks) else None
                if commands and following is not None and following.lang == 'text' and \
                        _adjacent(doc, block, following):
                    commands[-1].expected_output = [line.rstrip() for line in following.text.splitlines()
                                                    if line.strip()]
                steps += commands
            elif block.lang == 'python' and FILE_HEADER.match(block.text.splitlines()[0]):
                steps.append(block)
    return steps


def _adjacent(doc: str, block: Block, following: Block) -> bool:
    """Only blank lines lie between the end of ``block`` and the start of ``following``."""
    lines = (DOCS / doc).read_text().splitlines()
    end = block.line - 1 + len(block.text.splitlines())  # index of the closing fence
    return all(not line.strip() for line in lines[end + 1:following.line - 2])


def all_commands() -> List[Command]:
    return [step for step in doc_steps() if isinstance(step, Command)]


def coverage_of(command: Command) -> Optional[Coverage]:
    return next((entry for entry in COVERED_ELSEWHERE if command.text.startswith(entry.prefix)), None)


def runs_here(command: Command) -> bool:
    return command.runnable and coverage_of(command) is None


def tool_and_options(command: Command) -> tuple:
    """The script a ``python`` command runs and the set of options it gives."""
    return command.tokens[1], frozenset(token for token in command.tokens if token.startswith('--'))


def small_settings(tokens: List[str]) -> List[str]:
    """The command as it runs here (see the module docstring)."""
    tokens = [re.sub(r'iter_\d+\.pth', 'iter_1.pth', token) for token in tokens]
    if tokens[:2] == ['python', 'tools/train.py']:
        tokens += SMALL_TRAINING
    if tokens[:2] == ['python', 'tools/dataset_converters/generate_demo_cityscapes.py']:
        tokens += SMALL_DATA
    if tokens[0] == 'python':
        tokens[0] = sys.executable
    return tokens


def option_values(tokens: List[str], option: str) -> List[str]:
    """The values after ``option`` up to the next option."""
    if option not in tokens:
        return []
    values = []
    for token in tokens[tokens.index(option) + 1:]:
        if token.startswith('--'):
            break
        values.append(token)
    return values


def expected_pictures(tokens: List[str], sandbox: Path) -> Dict[Path, tuple]:
    """{PNG path: (width, height)} that a plot_logs.py or visualize.py command writes."""
    script = tokens[1] if len(tokens) > 1 else ''
    if script == 'tools/analysis/plot_logs.py':
        keys = option_values(tokens, '--keys')
        return {sandbox / option_values(tokens, '--out')[0]: (PLOT_WIDTH, PLOT_PANEL_HEIGHT * len(keys))}
    if script != 'tools/analysis/visualize.py':
        return {}
    positional = []
    for token in tokens[2:]:
        if token.startswith('--'):
            break
        positional.append(token)
    config, images = positional[0], positional[2:]
    losses = Config.fromfile(str(sandbox / config), import_custom_modules=False).model.distill_losses
    rows = 1 + (math.ceil(len(losses) / 2) if '--taps' in tokens else 0)
    pictures = {}
    for image in images:
        with Image.open(sandbox / image) as opened:
            width, height = opened.size
        row = round(PANEL * min(max(height / width, 0.25), 2.0)) + TITLE
        size = (FIGURE_WIDTH, rows * row + TITLE + LEGEND + (PANEL + TITLE if '--similarity' in tokens else 0))
        pictures[sandbox / option_values(tokens, '--out-dir')[0] / (Path(image).stem + '.png')] = size
    return pictures


# ---------------------------------------------------------------------------------------------- static checks
def test_every_doc_is_read_here():
    assert sorted(path.name for path in DOCS.glob('*.md')) == sorted(DOC_ORDER)


def test_every_command_runs_here_or_names_what_runs_it():
    commands = all_commands()
    assert commands
    run_here = {tool_and_options(command) for command in commands if runs_here(command)}
    for command in commands:
        if runs_here(command):
            continue
        coverage = coverage_of(command)
        assert coverage, (f'{command.where()}\nneither runs in this test (tools, pytest, cp) nor is listed in '
                          'COVERED_ELSEWHERE')
        if coverage.same_options_as_a_run:
            assert tool_and_options(command) in run_here, (
                f'{command.where()}\nno command with the same tool and options runs here')
    for coverage in COVERED_ELSEWHERE:
        assert any(command.text.startswith(coverage.prefix) for command in commands), \
            f'COVERED_ELSEWHERE entry {coverage.prefix!r} matches no documented command: remove it'
        for path, text in coverage.evidence:
            assert text in (REPO / path).read_text(), (
                f'{coverage.prefix!r} is said to be covered by {coverage.covered_by}, but {path} no longer '
                f'contains {text!r}: update the docs and this entry')


def test_python_snippets_compile():
    for doc in DOC_ORDER:
        for block in fenced_blocks(doc):
            if block.lang == 'python':
                ast.parse(block.text, filename=f'docs/{doc}:{block.line}')


def test_loss_and_schedule_snippets_of_methods_build():
    from mmseg_kd.registry import MODELS, WEIGHT_SCHEDULES
    built = []
    for block in fenced_blocks('methods.md'):
        if block.lang != 'python':
            continue
        names = {}
        exec(compile(block.text, f'docs/methods.md:{block.line}', 'exec'), {}, names)
        for name, cfg in names.items():
            if name.startswith('loss_'):
                assert {'student', 'teacher'} <= set(cfg), f'{name}: the snippet names no taps'
                MODELS.build({key: value for key, value in cfg.items() if key not in ('student', 'teacher')})
            else:
                assert name == 'weight_schedule', name
                WEIGHT_SCHEDULES.build(cfg)
            built.append(name)
    assert {'loss_kd', 'loss_cwd', 'loss_cgd', 'weight_schedule'} <= set(built)


# ---------------------------------------------------------------------------------------------- the run
@dataclass
class Result:
    command: Command
    tokens: List[str]
    returncode: int
    output: str
    seconds: float


@pytest.fixture(scope='module')
def docs_run(tmp_path_factory, r101_checkpoint):
    """Every runnable documented command, run in order in the sandbox; stops at the first failure."""
    sandbox = tmp_path_factory.mktemp('docs_sandbox')
    for folder in SANDBOX_COPIES:
        shutil.copytree(REPO / folder, sandbox / folder, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    (sandbox / DEMO_TEACHER).parent.mkdir(parents=True)
    shutil.copy(r101_checkpoint, sandbox / DEMO_TEACHER)  # what `make demo` leaves for the guide
    env = dict(os.environ, PYTHONPATH=str(sandbox), PYTHONUNBUFFERED='1', MPLBACKEND='Agg')
    results: List[Result] = []
    failure: Optional[Result] = None
    for step in doc_steps():
        if isinstance(step, Block):
            path = sandbox / FILE_HEADER.match(step.text.splitlines()[0]).group(1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(step.text)
            continue
        if not runs_here(step) or any(result.command.tokens == step.tokens for result in results):
            continue  # a command documented twice runs once
        tokens = small_settings(step.tokens)
        start = time.perf_counter()
        process = subprocess.run(tokens, cwd=sandbox, env=env, capture_output=True, text=True, timeout=900)
        result = Result(step, tokens, process.returncode, process.stdout + process.stderr,
                        time.perf_counter() - start)
        print(f'{result.seconds:5.1f}s  {step.where()}')
        results.append(result)
        if result.returncode != step.expected_status:
            failure = result
            break
    return dict(sandbox=sandbox, results=results, failure=failure)


def test_documented_commands_run(docs_run):
    failure = docs_run['failure']
    assert failure is None, (f'{failure.command.where()}\nexited with {failure.returncode} (expected '
                             f'{failure.command.expected_status}); ran as: {shlex.join(failure.tokens)}\n'
                             + failure.output[-5000:])
    assert {result.command.doc for result in docs_run['results']} >= {
        'getting_started.md', 'writing_a_distillation_config.md', 'adding_a_loss.md', 'datasets.md'}


def test_documented_outputs_are_printed(docs_run):
    checked = 0
    for result in docs_run['results']:
        printed = {line.rstrip() for line in result.output.splitlines()}
        for line in result.command.expected_output:
            if line.strip() != '...':
                assert line in printed, (f'{result.command.where()}\ndid not print the documented line\n{line}\n'
                                         f'It printed:\n{result.output[-4000:]}')
                checked += 1
    assert checked >= 10


def test_documented_pictures_are_real_images_of_the_documented_size(docs_run):
    pictures = {}
    for result in docs_run['results']:
        pictures.update(expected_pictures(result.command.tokens, docs_run['sandbox']))
    assert len(pictures) >= 2
    for path, size in pictures.items():
        assert path.is_file(), f'{path} was not written'
        assert_real_png(path, size)
