"""Intra-class feature variation distillation (IFVD; Wang et al., "Intra-class Feature Variation
Distillation for Semantic Segmentation", ECCV 2020), as CIRKD's baseline computes it.

With labels y (B, H, W) nearest-resized to the feature size, per image b and class k present in it, the
class prototype is the mean feature of its pixels; every valid pixel is compared with its own class's
prototype by cosine similarity, and these maps are matched between teacher and student:

    p[b, k] = Σ_n 1[y_bn = k] f[b, :, n] / (Σ_n 1[y_bn = k] + 1e-6)           (B, K, C)
    M[b, n] = cos(f[b, :, n], p[b, y_bn]) = f·p / (max(‖f‖₂, 1e-8) · max(‖p‖₂, 1e-8))   (B, H·W)
    L = (1/|V|) Σ_{(b,n) ∈ V} (M_s[b, n] − M_t[b, n])²,  V = pixels whose label is not ignore_index

Works for any pair of channel counts (prototypes are per network); the maps must have the same H×W.
CIRKD's code lets ignored pixels keep their own feature as "prototype" (cos = 1 for both networks, so
they add 0) but counts them in the mean; ``ignored_pixels_in_mean=True`` reproduces that scale.

Weight: CIRKD's IFVD baseline uses λ = 20 on the 1/8-resolution head features (CE mean over pixels).
"""
import torch
import torch.nn.functional as F

from mmseg_kd.losses.distill_loss import FeatureDistillLoss, labels_at
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import boolean, integer


def prototype_cosine_map(features: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor,
                         num_classes: int) -> torch.Tensor:
    """M (B, H·W): cosine of each pixel's feature with its class prototype (0 at invalid pixels)."""
    batch, channels = features.shape[:2]
    flat = features.float().flatten(2)                                             # (B, C, N)
    classes = torch.where(valid, labels, torch.full_like(labels, num_classes)).flatten(1)
    membership = F.one_hot(classes, num_classes + 1)[..., :num_classes].transpose(1, 2).float()  # (B, K, N)
    prototypes = torch.bmm(membership, flat.transpose(1, 2))                       # (B, K, C)
    prototypes = prototypes / (membership.sum(dim=2, keepdim=True) + 1e-6)
    own_prototype = torch.bmm(prototypes.transpose(1, 2), membership)              # (B, C, N)
    dot = (flat * own_prototype).sum(dim=1)
    norms = flat.norm(dim=1).clamp(min=1e-8) * own_prototype.norm(dim=1).clamp(min=1e-8)
    return dot / norms * valid.flatten(1)


@MODELS.register_module()
class IntraClassFeatureVariation(FeatureDistillLoss):
    """MSE between teacher and student maps of pixel-to-class-prototype cosine similarity.

    Args:
        ignore_index: label (an integer) of pixels left out (255 in mmseg).
        ignored_pixels_in_mean: count ignored pixels (with zero loss) in the mean, as CIRKD's code.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C_s, H, W), teacher (B, C_t, H, W), gt_labels (B, H_img, W_img) → scalar.
    """

    uses_labels = True
    needs_equal_channels = False

    def __init__(self, ignore_index: int = 255, ignored_pixels_in_mean: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.ignore_index = integer(type(self).__name__, 'ignore_index', ignore_index)
        self.ignored_pixels_in_mean = boolean(type(self).__name__, 'ignored_pixels_in_mean', ignored_pixels_in_mean)

    @classmethod
    def unlabeled_images_note(cls, loss_cfg: dict, fill_value: int) -> str:
        """Class prototypes come from labeled pixels only; refused when the unlabeled pixels would count as a class
        (``ignore_index`` other than the fill value) or in the mean (``ignored_pixels_in_mean=True``)."""
        ignore_index = cls.configured_argument(loss_cfg, 'ignore_index')
        if ignore_index != fill_value:
            raise ValueError(f'ignore_index={ignore_index}, but the unlabeled images are filled with {fill_value}: '
                             f'their pixels would form a class of their own. Set ignore_index={fill_value}')
        if cls.configured_argument(loss_cfg, 'ignored_pixels_in_mean') is True:
            raise ValueError('ignored_pixels_in_mean=True counts the ignored pixels, all pixels of the unlabeled '
                             'images included, in the mean of a loss that only labeled pixels feed. Set it to False')
        return 'learns from labeled pixels only'

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor,
                   gt_labels: torch.Tensor = None) -> torch.Tensor:
        if gt_labels is None:
            raise ValueError('IntraClassFeatureVariation needs gt_labels (the distiller passes them)')
        labels = labels_at(gt_labels, teacher.shape[-2:]).to(teacher.device)
        valid = labels != self.ignore_index
        if not valid.any():
            return student.sum() * 0.0
        num_classes = int(labels[valid].max()) + 1
        squared = (prototype_cosine_map(student, labels, valid, num_classes)
                   - prototype_cosine_map(teacher, labels, valid, num_classes)).pow(2)
        count = squared.numel() if self.ignored_pixels_in_mean else valid.sum()
        return squared.sum() / count
