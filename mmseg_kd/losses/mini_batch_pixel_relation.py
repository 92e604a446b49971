"""CIRKD mini-batch pixel-to-pixel relation distillation (Yang et al., CVPR 2022, "Cross-Image Relational
Knowledge Distillation for Semantic Segmentation", winycg/CIRKD; docs/methods/cirkd.md).

Student features f_s (B, C_s, H, W) and teacher features f_t (B, C_t, H, W) (the head output after ASPP/PPM
fusion) are optionally average-pooled p×p (stride p, ceil mode) and L2-normalised over channels at each
pixel, separately: Z_s (B, N, C_s), Z_t (B, N, C_t), N = H'·W'. C_s and C_t may differ: only N×N relations
are compared. For every ordered pair (i, j) of images, i = j included:

    S_ij = Z_i Z_jᵀ / τ   (N × N),   P_ij[n] = softmax over m of S_ij[n, m]       (teacher and student)
    L_ij = (1/N) Σ_n KL(P^t_ij[n] ‖ P^s_ij[n])
    L    = (1 / (B · B_j)) Σ_{i, j} L_ij

with i over the B images of this process and j over the B_j images compared with them: the same B
images (CIRKD's default, ``gather_across_gpus=False``), or every image of every process
(``gather_across_gpus=True``: teacher embeddings are gathered as constants, student embeddings with
gradients that flow back to the process that owns them; CIRKD's repository has this gather commented
out; its issue #2 suggests it with one image per GPU). There is NO τ² factor (τ = 0.1 would scale the
loss by 0.01) and no ignore mask. CIRKD's weight is 1 (Cityscapes, VOC, ADE20K); the loss is a mean
over pixel rows and image pairs, so the weight does not depend on resolution or batch size.

Memory: the relation maps hold B·B_j·N² floats each. At a 512×1024 crop (1/8 features: 64×128, N = 8192)
one image pair's map is 8192² × 4 bytes = 268 MB; pooling 2×2 divides that by 16 (N = 2048, 16.8 MB),
4×4 by 256. Forward + backward keep about five such maps alive at the peak (student log-probabilities and
teacher probabilities saved for backward, plus temporaries). Measured on CPU for one image pair at
512×1024 (C_s = 128, C_t = 512, float32, peak RSS growth): 90 MB with ``pool_size=2``, 12 MB with
``pool_size=4``, 1.05 GB without pooling. ``tests/test_cirkd_losses.py`` asserts the ``pool_size=2``
bound of 8 maps (8 · 2048² · 4 bytes = 134 MB); a batch multiplies it by the B·B_j image pairs.
"""
from typing import Optional

import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import DistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.all_gather import all_gather_rows, all_gather_with_grad
from mmseg_kd.utils.argument_checks import boolean, integer_at_least, temperature


def pixel_embeddings(features: torch.Tensor, pool_size: Optional[int]) -> torch.Tensor:
    """(B, C, H, W) features → (B, N, C) unit-length pixel embeddings (after optional p×p avg pooling)."""
    features = features.float()
    if pool_size is not None and pool_size > 1:
        features = F.avg_pool2d(features, pool_size, stride=pool_size, ceil_mode=True)
    return F.normalize(features.flatten(2).transpose(1, 2), p=2, dim=2)


def relation_kl(student_rows: torch.Tensor, student_cols: torch.Tensor, teacher_rows: torch.Tensor,
                teacher_cols: torch.Tensor, tau: float) -> torch.Tensor:
    """Mean over image pairs (i, j) and pixel rows n of KL(P^t_ij[n] ‖ P^s_ij[n]).

    Args:
        student_rows, teacher_rows: (B_i, N, C_s) and (B_i, N, C_t) embeddings of the images i.
        student_cols, teacher_cols: (B_j, M, C_s) and (B_j, M, C_t) embeddings of the images j.
        tau: temperature of the relation softmax.

    Returns:
        scalar, (1 / (B_i · B_j · N)) Σ_{i,j,n} Σ_m p_t (log p_t − log p_s).
    """
    log_p_s = F.log_softmax(torch.einsum('inc,jmc->ijnm', student_rows, student_cols) / tau, dim=-1)
    with torch.no_grad():
        log_p_t = F.log_softmax(torch.einsum('inc,jmc->ijnm', teacher_rows, teacher_cols) / tau, dim=-1)
        p_t = log_p_t.exp()
        negative_entropy = (p_t * log_p_t).sum(dim=-1)
    cross_entropy = -(p_t * log_p_s).sum(dim=-1)
    return (negative_entropy + cross_entropy).mean()


@MODELS.register_module()
class MiniBatchPixelRelation(DistillLoss):
    """KL divergence between teacher and student pixel-to-pixel relations across the images of a batch.

    Args:
        tau: temperature τ > 0 of the relation softmax (CIRKD: 0.1).
        pool_size: p (an integer >= 1), average-pool both feature maps p×p (stride p, ceil mode) before relating
            pixels, to bound memory (N² per image pair shrinks by p⁴); ``None`` (CIRKD's default) keeps every pixel.
        gather_across_gpus: relate each local image to the images of every process (see module
            docstring); ``False`` (CIRKD) relates the images of each process's own batch.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C_s, H_s, W_s), teacher (B, C_t, H, W) → scalar. A student map of another
    spatial size is resized (bilinear) to the teacher's.
    """

    needs_equal_channels = False  # it compares pixel-to-pixel similarities, whatever the widths

    def __init__(self, tau: float = 0.1, pool_size: Optional[int] = None,
                 gather_across_gpus: bool = False, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.tau = temperature(owner, 'tau', tau)
        self.pool_size = integer_at_least(owner, 'pool_size', pool_size, 1, allow_none=True)
        self.gather_across_gpus = boolean(owner, 'gather_across_gpus', gather_across_gpus)

    def check_shapes(self, student_shape, teacher_shape):
        if len(student_shape) != 4 or len(teacher_shape) != 4:
            raise ValueError(f'{type(self).__name__} relates pixels of (B, C, H, W) feature maps, got '
                             f'student {tuple(student_shape)} and teacher {tuple(teacher_shape)}; tap '
                             'a feature map such as the decode head bottleneck')

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        if student.shape[-2:] != teacher.shape[-2:]:
            student = F.interpolate(student, size=teacher.shape[-2:], mode='bilinear', align_corners=False)
        student_rows = pixel_embeddings(student, self.pool_size)
        teacher_rows = pixel_embeddings(teacher, self.pool_size)
        if self.gather_across_gpus:
            student_cols = all_gather_with_grad(student_rows)
            teacher_cols = all_gather_rows(teacher_rows)
        else:
            student_cols, teacher_cols = student_rows, teacher_rows
        return relation_kl(student_rows, student_cols, teacher_rows, teacher_cols, self.tau)
