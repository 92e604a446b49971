"""Inter-class similarity distillation (ICSD) of AICSD: Mansourian et al., "AICSD: Adaptive Inter-Class
Similarity Distillation for Semantic Segmentation", arXiv 2308.04243 (AmirMansurian/AICSD).

For logits z (B, K, H, W) and temperature τ, each class k of image b becomes a distribution over the
N = H·W positions, and classes are compared with the KL divergence:

    P^b_k = softmax_{n ∈ H·W}(z[b, k, n] / τ)                                  (B, K, N)
    A[i, j] = (1/B) Σ_b KL(P^b_j ‖ P^b_i) = (1/B) Σ_b Σ_n P^b_j[n] (log P^b_j[n] − log P^b_i[n])
    M[i, j] = A[min(i,j), max(i,j)]     (symmetric=True: the reference computes j ≥ i and mirrors)
            = A[i, j]                   (symmetric=False)                      (K, K), diag 0
    M̂[i, :] = M[i, :] / max(‖M[i, :]‖₂, 1e-12)                                (row L2 normalisation)
    L = (1/K²) Σ_{i,j} (M̂_s[i, j] − M̂_t[i, j])²            [ / B  with batch_average=True ]

A is computed without a loop over class pairs: with E[b, j] = Σ_n P_j log P_j and the (K×K) matrices
C_b = P_b · (log P_b)ᵀ, A[i, j] = mean_b (E[b, j] − C_b[j, i]).

Weight: the reference's total is L_CE/B + λ_lo · L_ICSD/B (λ_lo = 9500 on VOC; its README passes it as
``--pa_lambda``). Both terms carry a 1/B, so against mmseg's CE (mean over pixels, no /B) the same balance
is ``loss_weight = λ_lo`` with the default ``batch_average=False`` at any batch size;
``batch_average=True`` reproduces the reference's raw value (then ``loss_weight = λ_lo · B``, B = images
per GPU).

Reference-code deviations (``reference_code=True`` reproduces the released HEAD code, which produced the
published VOC numbers): the softmax runs over H only (each column w separately, dim 2 of the 4-D tensor),
and ``kl_div`` receives probabilities instead of log-probabilities, so an entry is
(1/B) Σ_{b,h,w} P_j (log P_j − P_i) and the diagonal is not 0. The reference also distils logits
upsampled to the input size (align_corners=True); here the loss sees the tapped logits (1/4 of the input
for DeepLabV3+); bilinear upsampling spreads each spatial distribution over more positions and leaves
the KLs nearly unchanged, at 16× the cost.
"""
import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import LogitDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import boolean, temperature


def _mirror_upper_triangle(matrix: torch.Tensor) -> torch.Tensor:
    """M[i, j] = matrix[min(i, j), max(i, j)]."""
    upper = torch.triu(matrix)
    return upper + torch.triu(matrix, diagonal=1).transpose(-1, -2)


def inter_class_similarity_matrix(logits: torch.Tensor, tau: float = 1.0,
                                  symmetric: bool = True) -> torch.Tensor:
    """The inter-class similarity matrix M (K, K) of AICSD, before row normalisation.

    Args:
        logits: (B, K, H, W) class scores.
        tau: temperature τ of the spatial softmax.
        symmetric: mirror the upper triangle (j ≥ i) as the reference does; ``False`` keeps the
            asymmetric matrix M[i, j] = (1/B) Σ_b KL(P_j ‖ P_i).

    Returns:
        (K, K) float32 tensor; M[i, j] grows as classes i and j are spread differently over the image.
    """
    batch, classes = logits.shape[:2]
    log_p = F.log_softmax(logits.float().reshape(batch, classes, -1) / tau, dim=-1)  # (B, K, N)
    p = log_p.exp()
    negative_entropy = (p * log_p).sum(dim=-1)                                    # (B, K): E[b, j]
    cross = torch.bmm(p, log_p.transpose(1, 2))                                   # (B, K, K): C[b, j, i]
    kl = (negative_entropy[:, None, :] - cross.transpose(1, 2)).mean(dim=0)       # A[i, j]
    return _mirror_upper_triangle(kl) if symmetric else kl


def reference_code_similarity_matrix(logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """M (K, K) as the released AICSD code computes it (softmax over H, probabilities as kl_div input).

    Entry [i, j] (j ≥ i, mirrored) = (1/B) Σ_{b,h,w} P_j (log P_j − P_i), P = softmax over H of z/τ.
    """
    batch, classes = logits.shape[:2]
    p = F.softmax(logits.float() / tau, dim=2).reshape(batch, classes, -1)        # (B, K, H·W)
    self_term = torch.special.xlogy(p, p).sum(dim=(0, 2))                         # Σ_{b,n} P_j log P_j
    cross = torch.einsum('bjn,bin->ji', p, p)                                     # Σ_{b,n} P_j P_i
    entries = (self_term[None, :] - cross.transpose(0, 1)) / batch                # [i, j]
    return _mirror_upper_triangle(entries)


@MODELS.register_module()
class InterClassSimilarityDistillation(LogitDistillLoss):
    """MSE between the row-normalised inter-class similarity matrices of teacher and student.

    Args:
        tau: temperature τ > 0 of the spatial softmax (the reference uses 1).
        symmetric: mirror the upper triangle of M, as the reference does.
        batch_average: divide by B once more, as the reference does (see the module docstring).
        reference_code: compute M as the released code does (softmax over H only, probabilities as
            the ``kl_div`` input; always symmetric, so not with ``symmetric=False``). Only for reproducing the
            published numbers.
        loss_weight, weight_schedule: see :class:`DistillLoss`; AICSD's ALW uses
            ``weight_schedule=dict(type='TrainingProgress')``.

    Shapes: student (B, K, H_s, W_s), teacher (B, K, H, W) → scalar. The student map is resized to the
    teacher's H×W.
    """

    def __init__(self, tau: float = 1.0, symmetric: bool = True, batch_average: bool = False,
                 reference_code: bool = False, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.tau = temperature(owner, 'tau', tau)
        self.symmetric = boolean(owner, 'symmetric', symmetric)
        self.batch_average = boolean(owner, 'batch_average', batch_average)
        self.reference_code = boolean(owner, 'reference_code', reference_code)
        if reference_code and not symmetric:
            raise ValueError(f'{owner}: symmetric=False has no effect with reference_code=True (the released '
                             'code always mirrors the matrix); drop one of them')

    def similarity(self, logits: torch.Tensor) -> torch.Tensor:
        """Row-normalised M̂ (K, K) of ``logits`` (B, K, H, W)."""
        if self.reference_code:
            matrix = reference_code_similarity_matrix(logits, self.tau)
        else:
            matrix = inter_class_similarity_matrix(logits, self.tau, self.symmetric)
        return F.normalize(matrix, p=2, dim=1, eps=1e-12)

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        student = self.resize_to(student, teacher)
        loss = (self.similarity(student) - self.similarity(teacher)).pow(2).mean()  # Σ / K²
        return loss / student.shape[0] if self.batch_average else loss
