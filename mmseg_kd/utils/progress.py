"""Progress for long work outside training (dataset writing and conversion, analysis tools).

Training and evaluation already report progress through mmengine's logger; everything else that loops
over many items (writing a dataset, converting one, drawing pictures for many images) wraps its loop
in :func:`track_progress`, so every tool shows the same bar (mmengine's ``ProgressBar``)::

    for sample in track_progress(samples, total=len(files), description='converting ADE20K'):
        write(sample)

A tool step that takes seconds without a loop to count (building networks, loading weights, a forward pass)
says what it is doing, and when it is done how long it took, with :func:`announce_step`::

    with announce_step('building the student and the teacher'):
        networks = build_networks(model_cfg)
"""
import sys
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

from mmengine.utils import ProgressBar

Item = TypeVar('Item')


def track_progress(items: Iterable[Item], total: int, description: str, enabled: bool = True,
                   file: Optional[TextIO] = None) -> Iterator[Item]:
    """Yield ``items`` one by one while a progress bar counts them up to ``total``.

    The bar advances after the caller has finished with an item, so its rate and ETA measure the
    caller's work (for a lazy iterable, also the work of producing each item).

    Args:
        items: what to loop over; may be a lazy generator.
        total: how many items there are (the bar's 100 %).
        description: one line printed above the bar, e.g. ``'writing 80 scenes to data/demo'``.
        enabled: ``False`` yields the items without printing anything.
        file: where to draw the bar; the current ``sys.stdout`` by default.
    """
    if not enabled:
        yield from items
        return
    file = file or sys.stdout
    file.write(description + '\n')
    bar = ProgressBar(total, file=file)
    for item in items:
        yield item
        bar.update()
    file.write('\n')
    file.flush()


@contextmanager
def announce_step(description: str, file: Optional[TextIO] = None) -> Iterator[None]:
    """Print ``'<description> ...'`` before the block and ``'<description>: done in 2.3 s'`` after it.

    Whole lines on stderr (the default), so that warnings printed during the step do not break them and a tool's
    report on stdout stays clean.

    Args:
        description: what the block does, e.g. ``'loading the teacher's weights'``.
        file: where to print; the current ``sys.stderr`` by default.
    """
    file = file or sys.stderr
    file.write(f'{description} ...\n')
    file.flush()
    start = time.perf_counter()
    yield
    file.write(f'{description}: done in {time.perf_counter() - start:.1f} s\n')
    file.flush()
