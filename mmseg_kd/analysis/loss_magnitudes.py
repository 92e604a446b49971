"""How large each loss term of a distillation is next to the student's cross-entropy, on real training batches.

A weight is only meaningful next to the other terms: attention transfer at weight 1 adds about 0.002 to a CE of
0.8, so its gradient barely moves the student, while at its recommended 10000 it is the same order as the CE.
:func:`measure_loss_terms` runs the distiller's own training forward (``SegDistiller.loss``: the student's
losses, the teacher's taps, every distillation term at its weight and schedule) on batches from the config's
training dataloader, without an optimizer step, and collects every logged loss term.
"""
from dataclasses import dataclass
from typing import Dict, Iterable, List

from mmseg_kd.distillers.seg_distiller import SegDistiller

REFERENCE_TERM = 'decode.loss_ce'


@dataclass
class TermStatistics:
    """The values one logged term took over the measured batches.

    Attributes:
        key: the log key (``decode.loss_ce``, ``distill.loss_at``, ...).
        values: one value per batch (the weighted term, as it enters the total loss).
    """
    key: str
    values: List[float]

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)

    @property
    def minimum(self) -> float:
        return min(self.values)

    @property
    def maximum(self) -> float:
        return max(self.values)


def _as_float(value) -> float:
    """A logged loss value (a tensor, or a list of tensors that mmengine sums) as a float."""
    if isinstance(value, (list, tuple)):
        return float(sum(item.detach().float().mean() for item in value))
    return float(value.detach().float().mean())


def measure_loss_terms(distiller: SegDistiller, batches: Iterable[dict]) -> Dict[str, TermStatistics]:
    """Every loss term the distiller logs in training, over ``batches``, in log order.

    The distiller runs in training mode (the student's batch-norm statistics and the losses' memories update, as in
    a training step, so use a distiller built for measuring only); gradients stay on because some losses take an
    inner step (the adversarial discriminator); no optimizer step is made.

    Args:
        distiller: the distiller, its teacher loaded.
        batches: dataloader batches (``dict(inputs=[...], data_samples=[...])``).

    Returns:
        ``{log key: TermStatistics}`` for the keys containing ``loss`` (the terms mmengine sums into the total).
    """
    distiller.train()
    statistics: Dict[str, TermStatistics] = {}
    for batch in batches:
        data = distiller.data_preprocessor(batch, True)
        losses = distiller.loss(data['inputs'], data['data_samples'])
        for key, value in losses.items():
            if 'loss' in key:
                statistics.setdefault(key, TermStatistics(key, [])).values.append(_as_float(value))
        del losses
    if not statistics:
        raise ValueError('no batch was measured: the training dataloader gave no batch')
    return statistics


def magnitude_table(statistics: Dict[str, TermStatistics]) -> List[str]:
    """The lines of a table: term, mean, min, max and mean / the decode head's cross-entropy."""
    reference = statistics.get(REFERENCE_TERM)
    width = max(len('term'), *(len(key) for key in statistics))
    lines = [f"  {'term':<{width}}  {'mean':>10}  {'min':>10}  {'max':>10}  mean / {REFERENCE_TERM}"]
    for key, term in statistics.items():
        ratio = f'{term.mean / reference.mean:.3g}' if reference is not None and reference.mean else '-'
        lines.append(f'  {key:<{width}}  {term.mean:>10.4g}  {term.minimum:>10.4g}  {term.maximum:>10.4g}  {ratio}')
    return lines

