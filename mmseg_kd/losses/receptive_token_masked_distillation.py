"""MasKD: masked distillation with receptive tokens (Huang et al., ICLR 2023, hunto/MasKD), on segmentation logits.

For student and teacher logits y^s, y^t (B, K, H, W) and T frozen tokens w_t ∈ R^K learnt on the teacher
(:mod:`mmseg_kd.losses.receptive_tokens`), the masks come from the teacher only,

    m_t = sigmoid(w_t · y^t)                                                (B, T, H, W)
    L   = ½ · mean over (b, t, k) of  Σ_{h,w} m_t² · (y^s_k − y^t_k)²  /  (Σ_{h,w} m_t + 10⁻⁵)

The numerator squares the mask because the released loss compares the masked maps (m·y^s − m·y^t)²; the
denominator does not. No temperature, no labels. The released segmentation setting (CIRKD's protocol) applies it to
the 1/8 decode-head logits with weight 1 and, for ResNet students, to the auxiliary-head logits with weight 0.4.
"""
import torch

from mmseg_kd.losses.distill_loss import LogitDistillLoss
from mmseg_kd.losses.receptive_tokens import TOKEN_COMMAND, load_token_file, token_masks
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.argument_checks import integer_at_least


@MODELS.register_module()
class ReceptiveTokenMaskedDistillation(LogitDistillLoss):
    """MasKD's token-masked squared error between student and teacher logits.

    Args:
        num_classes: K, the number of classes (channels of both logit maps).
        num_tokens: T >= 1, the number of receptive tokens (8 as released).
        tokens: the token file written by ``tools/learn_receptive_tokens.py`` for this teacher, a (T, K) tensor.
            It is read when the loss is built; a missing file or one of another shape is a build error naming the
            command that writes it. The tokens are a frozen buffer (``self.tokens``), saved in checkpoints.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, K, H_s, W_s) (resized to the teacher's H×W), teacher (B, K, H, W) → scalar.
    """

    def __init__(self, num_classes: int, tokens: str, num_tokens: int = 8, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.num_classes = integer_at_least(name, 'num_classes', num_classes, 1)
        self.num_tokens = integer_at_least(name, 'num_tokens', num_tokens, 1)
        self.token_file = tokens
        self.register_buffer('tokens', load_token_file(tokens, self.num_tokens, self.num_classes, name))

    def check_shapes(self, student_shape, teacher_shape):
        super().check_shapes(student_shape, teacher_shape)
        if teacher_shape[1] != self.num_classes:
            raise ValueError(
                f'{type(self).__name__} has num_classes={self.num_classes} (its tokens are '
                f'{self.num_tokens}x{self.num_classes}), but the tapped logits have {teacher_shape[1]} channels. Tap '
                'the class logits (decode_head.conv_seg) and set num_classes to the heads\' num_classes, with tokens '
                f'learnt for them (`{TOKEN_COMMAND}`).')

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
        student = self.resize_to(student, teacher)
        masks = token_masks(self.tokens, teacher).flatten(2)  # (B, T, HW)
        squared_difference = (student - teacher).square().flatten(2)  # (B, K, HW)
        masked_error = torch.matmul(masks.square(), squared_difference.transpose(1, 2))  # (B, T, K)
        mask_area = masks.sum(dim=2, keepdim=True) + 1e-5  # (B, T, 1)
        return 0.5 * (masked_error / mask_area).mean()
