"""A progress bar for long loops outside training (dataset writing and conversion, analysis tools).

Training and evaluation already report progress through mmengine's logger; everything else that loops
over many items (writing a dataset, converting one, drawing pictures for many images) wraps its loop
in :func:`track_progress`, so every tool shows the same bar (mmengine's ``ProgressBar``)::

    for sample in track_progress(samples, total=len(files), description='converting ADE20K'):
        write(sample)
"""
import sys
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
