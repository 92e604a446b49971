"""What a distillation loss compares, as one picture per network: the visualizer's tap panels.

Each loss family gets the quantity its formula compares, computed from the tensors the loss receives (the student's
after the loss's refinement and the entry's connector), for one image:

============================== =====================================================================================
family (losses)                picture (h, w) for student and teacher
============================== =====================================================================================
class distribution per pixel   p_k = softmax over the K classes of z / τ at every pixel, for one class k
(KLDivergence, DIST,           (the student's logits first resized to the teacher's H×W, as the loss does).
holistic adversarial at τ = 1)
spatial distribution per class softmax over the H·W positions of z_k / τ (CWD, ICSD; the reference-code ICSD over
(CWD, CGD, ICSD)               H only), for one class k; CGD: the softmax over the g·H·W entries of k's channel
                               group, k's share of it.
attention map (AT)             Â = channel mean of f², L2-normalised (the loss's own ``attention_map``).
relation to one position       the similarity of every position to the centre position (marked): cosine of the
(SKD pair-wise, CIRKD          max-pooled nodes (SKD), softmax over positions of cos / τ of the pooled pixel
mini-batch relation)           embeddings (CIRKD, the image with itself).
features (FitNet, Overhaul,    ‖·‖₂ over channels at every position of what the loss compares: the connector's
AttnFD, IFVD, memory contrast) output and the teacher map (Overhaul: clipped at its margin; AttnFD: both refined by
                               the CBAMs and divided by their Frobenius norm).
============================== =====================================================================================
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from mmseg_kd.losses import (
    AttentionGuidedFeatureDistillation,
    AttentionTransfer,
    ChannelGroupDivergence,
    ChannelWiseDivergence,
    InterClassSimilarityDistillation,
    LogitDistillLoss,
    MiniBatchPixelRelation,
    OverhaulFeatureDistillation,
    PairwiseSimilarityDistillation,
    attention_map,
)
from mmseg_kd.losses.mini_batch_pixel_relation import pixel_embeddings
from mmseg_kd.losses.pairwise_similarity import pooled_node_similarity


@dataclass
class ComparedMaps:
    """One picture per network of what a loss compares, on the same grid and meant for one colour scale.

    Attributes:
        what: what the pictures show, e.g. ``"p(car): softmax over classes of logits / τ, τ = 1"``.
        student, teacher: (h, w) float arrays.
        marker: (row, column) of the reference position of a relation picture, else None.
    """
    what: str
    student: np.ndarray
    teacher: np.ndarray
    marker: Optional[Tuple[int, int]] = None


def most_predicted_class(teacher_logits: torch.Tensor) -> int:
    """The class the teacher predicts at the most positions of its (K, h, w) logits (ties: the lower index)."""
    counts = torch.bincount(teacher_logits.argmax(0).flatten(), minlength=teacher_logits.shape[0])
    return int(counts.argmax())


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


def class_probability(student: torch.Tensor, teacher: torch.Tensor, tau: float, k: int
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """softmax over classes of z / τ at every pixel, class ``k``: (h, w) for (K, h_s, w_s) and (K, h, w) logits
    (the student's resized to the teacher's size)."""
    student = LogitDistillLoss.resize_to(student[None].float(), teacher[None])[0]
    return tuple(_numpy(torch.softmax(z.float() / tau, dim=0)[k]) for z in (student, teacher))


def group_distribution(student: torch.Tensor, teacher: torch.Tensor, tau: float, k: int, group_size: int = 1,
                       permutation: Optional[torch.Tensor] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Channel ``k``'s share of the softmax over the g·H·W entries of its channel group (g = 1: softmax over H·W).

    Args:
        student, teacher: (K, h_s, w_s) and (K, h, w) logits (the student's resized to the teacher's size).
        tau: temperature τ.
        k: the channel (class) shown.
        group_size: g, consecutive channels per group after ``permutation``.
        permutation: the loss's fixed channel permutation π (position i holds channel π[i]), or None.
    """
    student = LogitDistillLoss.resize_to(student[None].float(), teacher[None])[0]
    order = torch.arange(teacher.shape[0]) if permutation is None else permutation.cpu()
    position = int((order == k).nonzero()[0, 0])
    group = order[position // group_size * group_size:][:group_size]
    within = int((group == k).nonzero()[0, 0])
    pictures = []
    for z in (student, teacher):
        entries = z.float()[group] / tau                                                 # (g, h, w)
        pictures.append(_numpy(torch.softmax(entries.flatten(), dim=0).view_as(entries)[within]))
    return tuple(pictures)


def relation_row(similarity: torch.Tensor, grid: Sequence[int]) -> Tuple[np.ndarray, Tuple[int, int]]:
    """The row of an (N, N) relation matrix for the centre node of the (h, w) grid (N = h·w), as an (h, w)
    picture, and the centre's (row, column)."""
    centre = (grid[0] // 2, grid[1] // 2)
    return _numpy(similarity[centre[0] * grid[1] + centre[1]].view(*grid)), centre


def channel_norm(features: torch.Tensor) -> np.ndarray:
    """‖f[:, h, w]‖₂ over channels: (h, w) for (C, h, w) features."""
    return _numpy(features.float().norm(dim=0))


def compared_maps(loss: nn.Module, student: torch.Tensor, teacher: torch.Tensor, classes: Sequence[str],
                  class_index: Optional[int] = None) -> ComparedMaps:
    """The pictures of what ``loss`` compares for one image.

    Args:
        loss: the entry's :class:`~mmseg_kd.losses.DistillLoss` (prepared, as the distiller built it).
        student: what the loss receives from the student, (C_s, h_s, w_s): the tapped tensor after the loss's
            ``refine_student`` and the entry's connector.
        teacher: the tapped teacher tensor, (C_t, h, w).
        classes: the dataset's class names (titles of the class pictures).
        class_index: the class shown by the class pictures; None: the class the teacher predicts most often.
    """
    if isinstance(loss, LogitDistillLoss):
        k = most_predicted_class(teacher) if class_index is None else class_index
        name = classes[k] if k < len(classes) else f'class {k}'
        tau = getattr(loss, 'tau', 1.0)
        if isinstance(loss, (ChannelGroupDivergence, ChannelWiseDivergence)):
            group_size = getattr(loss, 'group_size', 1)
            group = '' if group_size == 1 else f' and its group of {group_size} channels'
            pictures = group_distribution(student, teacher, tau, k, group_size,
                                          getattr(loss, 'channel_permutation', None))
            return ComparedMaps(f'{name}: softmax over the positions{group} of logits / τ, τ = {tau:g}', *pictures)
        if isinstance(loss, InterClassSimilarityDistillation):
            if loss.reference_code:  # softmax over H only, each column separately (the released code)
                resized = LogitDistillLoss.resize_to(student[None].float(), teacher[None])[0]
                pictures = tuple(_numpy(torch.softmax(z[k].float() / tau, dim=0)) for z in (resized, teacher))
                return ComparedMaps(f'{name}: softmax over each column of logits / τ, τ = {tau:g}', *pictures)
            pictures = group_distribution(student, teacher, tau, k)
            return ComparedMaps(f'{name}: softmax over the positions of logits / τ, τ = {tau:g}', *pictures)
        pictures = class_probability(student, teacher, tau, k)  # KD, DIST, the adversarial term's logits
        return ComparedMaps(f'p({name}): softmax over the classes of logits / τ, τ = {tau:g}', *pictures)
    if isinstance(loss, AttentionTransfer):
        pictures = tuple(_numpy(attention_map(f[None], loss.normalize)[0]) for f in (student, teacher))
        return ComparedMaps(f'attention map: channel mean of f², L2-normalised per {loss.normalize}', *pictures)
    if isinstance(loss, PairwiseSimilarityDistillation):
        kernel = loss.kernel_for(teacher.shape[-2:])
        grid = tuple(-(-size // k) for size, k in zip(teacher.shape[-2:], kernel))  # ceil mode
        (student_row, centre), (teacher_row, _) = (relation_row(pooled_node_similarity(f[None], kernel)[0], grid)
                                                   for f in (student, teacher))
        return ComparedMaps(f'cosine to the marked node ({kernel[0]}x{kernel[1]} max-pooled nodes)', student_row,
                            teacher_row, marker=centre)
    if isinstance(loss, MiniBatchPixelRelation):
        pool = loss.pool_size if loss.pool_size and loss.pool_size > 1 else 1
        grid = tuple(-(-size // pool) for size in teacher.shape[-2:])
        rows = []
        for features in (student, teacher):
            embeddings = pixel_embeddings(features[None], loss.pool_size)[0]                  # (N, C)
            rows.append(relation_row(torch.softmax(embeddings @ embeddings.t() / loss.tau, dim=1), grid))
        return ComparedMaps(f'softmax over positions of cosine / τ to the marked pixel, τ = {loss.tau:g}',
                            rows[0][0], rows[1][0], marker=rows[0][1])
    if isinstance(loss, OverhaulFeatureDistillation) and loss.margin is not None:
        target = torch.max(teacher.float(), loss.margin[0].to(teacher.device))
        return ComparedMaps('‖·‖₂ over channels: connector output, teacher clipped at its margin',
                            channel_norm(student), channel_norm(target))
    if isinstance(loss, AttentionGuidedFeatureDistillation) and loss.teacher_attention is not None:
        with torch.no_grad():
            refined = loss.teacher_attention(teacher[None].float())[0]
        return ComparedMaps('‖·‖₂ over channels of the CBAM-refined maps / their Frobenius norm',
                            channel_norm(student / student.norm()), channel_norm(refined / refined.norm()))
    return ComparedMaps('‖·‖₂ over channels of the compared maps (the student after its connector)',
                        channel_norm(student), channel_norm(teacher))
