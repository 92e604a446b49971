"""DIST: inter-class and intra-class Pearson-correlation distillation (Huang et al., NeurIPS 2022,
"Knowledge Distillation from A Stronger Teacher", hunto/DIST_KD).

Logits z (B, K, H, W) become class probabilities at every pixel, and the pixels of the batch are the
"samples" of the paper (its segmentation setting flattens them): Y = softmax(z / τ over K) ∈ R^{N×K},
N = B·H·W. With the Pearson correlation

    ρ(a, b) = Σ_i (a_i − ā)(b_i − b̄) / (‖a − ā‖₂ · ‖b − b̄‖₂ + ε)

    L_inter = (1/N) Σ_n (1 − ρ(Y_s[n, :], Y_t[n, :]))     relation between classes, at each pixel
    L_intra = (1/K) Σ_k (1 − ρ(Y_s[:, k], Y_t[:, k]))     relation between the batch's pixels, per class
    L       = τ² · (β · L_inter + γ · L_intra)

ρ is invariant to shifting and scaling either argument, so the student only has to match the teacher's
relations, not its probabilities (the paper's point for stronger teachers). ε = 1e-8 keeps a constant
column (a class with the same probability everywhere) at ρ = 0 instead of 0/0. The intra-class term
correlates all pixels of the process's batch (per-GPU batch 2 in the paper's setting), so it couples
images. No ignore mask (as the paper's code). The paper's segmentation setting (CIRKD protocol) uses
τ = 1, β = γ = 1 on the 1/8 decode-head logits with weight 1, plus the same loss with weight 0.4 on the
auxiliary-head logits, and no other KD term. Both relations lie in [0, 2] per term, whatever the
resolution, so the weight compares directly with mmseg's per-pixel-mean CE.
"""
import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import LogitDistillLoss
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import non_negative_number, positive_number, temperature


def pearson_correlation(a: torch.Tensor, b: torch.Tensor, dim: int, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of ``a`` and ``b`` along ``dim`` (ε added to the product of the norms)."""
    a = a - a.mean(dim=dim, keepdim=True)
    b = b - b.mean(dim=dim, keepdim=True)
    return (a * b).sum(dim=dim) / (a.norm(dim=dim) * b.norm(dim=dim) + eps)


@MODELS.register_module()
class InterIntraClassCorrelation(LogitDistillLoss):
    """DIST: one minus the Pearson correlation of class probabilities, across classes and across pixels.

    Args:
        tau: temperature τ > 0 of the softmax (DIST segmentation: 1).
        beta: β >= 0, weight of the inter-class term (DIST: 1).
        gamma: γ >= 0, weight of the intra-class term (DIST: 1); β and γ are not both 0.
        eps: ε > 0 in the correlation's denominator.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, K, H_s, W_s), teacher (B, K, H, W) → scalar.
    """

    def __init__(self, tau: float = 1.0, beta: float = 1.0, gamma: float = 1.0, eps: float = 1e-8,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.tau = temperature(owner, 'tau', tau)
        self.beta = non_negative_number(owner, 'beta', beta)
        self.gamma = non_negative_number(owner, 'gamma', gamma)
        self.eps = positive_number(owner, 'eps', eps)
        if self.beta == self.gamma == 0:
            raise ValueError(f'{owner}: beta and gamma are both 0: the loss would always be 0; remove it from '
                             'distill_losses instead')

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        student = self.resize_to(student, teacher)
        classes = teacher.shape[1]
        y_s = F.softmax(student.float() / self.tau, dim=1).transpose(0, 1).reshape(classes, -1).t()
        y_t = F.softmax(teacher.float() / self.tau, dim=1).transpose(0, 1).reshape(classes, -1).t()
        inter = (1 - pearson_correlation(y_s, y_t, dim=1, eps=self.eps)).mean()
        intra = (1 - pearson_correlation(y_s, y_t, dim=0, eps=self.eps)).mean()
        return self.tau ** 2 * (self.beta * inter + self.gamma * intra)
