"""The package's imports run one way: a subpackage imports only from the layers below it (and from itself).

    utils, registry                                  (bottom)
    datasets, layers, schedules, checkpoint          import only the bottom
    losses, models                                   import the layers above this line, not each other
    distillers                                       imports losses and below
    engine, analysis                                 import distillers and below, not each other
    tools/                                           on top (outside the package)
"""
import ast
from pathlib import Path

import pytest

from conftest import REPO

LAYER = {'utils': 0, 'registry': 0,
         'datasets': 1, 'layers': 1, 'schedules': 1, 'checkpoint': 1,
         'losses': 2, 'models': 2, 'distillers': 3, 'engine': 4, 'analysis': 4}
PACKAGE = REPO / 'mmseg_kd'


def imported_subpackages(path: Path):
    """(line, subpackage) of every ``mmseg_kd.<subpackage>`` a module imports, at any depth of the file."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != 'mmseg_kd' else [f'mmseg_kd.{a.name}' for a in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split('.')
            if parts[0] == 'mmseg_kd' and len(parts) > 1:
                yield node.lineno, parts[1]


def modules():
    return sorted(path for path in PACKAGE.rglob('*.py') if path.parent != PACKAGE)


def test_every_subpackage_has_a_layer():
    assert {path.relative_to(PACKAGE).parts[0] for path in modules()} <= set(LAYER)


@pytest.mark.parametrize('path', modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_subpackage_and_the_layers_below(path):
    own = path.relative_to(PACKAGE).parts[0]
    wrong = [f'line {line}: mmseg_kd.{imported} (layer {LAYER[imported]}) from {own} (layer {LAYER[own]})'
             for line, imported in imported_subpackages(path)
             if imported != own and LAYER.get(imported, 99) >= LAYER[own]]
    assert not wrong, wrong


def test_the_checker_sees_an_upward_import(tmp_path):
    upward = tmp_path / 'upward.py'
    upward.write_text('def f():\n    from mmseg_kd.engine.runner_setup import leaf_datasets\n')
    assert list(imported_subpackages(upward)) == [(2, 'engine')]
