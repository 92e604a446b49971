"""MasKD's receptive tokens (Huang et al., ICLR 2023, "Masked Distillation with Receptive Tokens"): masks from logits.

A token w_t ∈ R^K (t = 1..T) turns class logits y (B, K, H, W) into a soft spatial mask

    m_t[b, h, w] = sigmoid(Σ_k w_t[k] · y[b, k, h, w])

so T tokens give T masks (B, T, H, W). They are learnt once per teacher (``tools/learn_receptive_tokens.py``,
:class:`~mmseg_kd.distillers.receptive_token_learner.ReceptiveTokenLearner`) with the cross-entropy of the masked
teacher logits Σ_t m_t ⊙ y^t and the dice term between the masks of different tokens,

    dice = mean over b and ordered pairs i ≠ j of  2⟨m_i, m_j⟩ / (‖m_i‖² + ‖m_j‖² + 2·10⁻¹²)

(inner products over H×W), which pushes the tokens to cover different regions. The tokens are then frozen and
weight the distillation loss (:class:`~mmseg_kd.losses.receptive_token_masked_distillation.
ReceptiveTokenMaskedDistillation`).

A token file is a ``torch.save`` of ``{'tokens': tensor (T, K)}``; the authors' stage-one files (a state dict with
the single key ``'mask_token'``) are read as well.
"""
import os

import torch

from mmseg_kd.checkpoint.safe_loading import load_checkpoint_file
from mmseg_kd.utils.user_input_error import UserFileError

#: The command that writes a token file, for error messages.
TOKEN_COMMAND = 'python tools/learn_receptive_tokens.py CONFIG'


def token_masks(tokens: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """The masks ``sigmoid(tokens · logits)``.

    Args:
        tokens: (T, K) tokens.
        logits: (B, K, H, W) class logits.

    Returns:
        (B, T, H, W) masks in (0, 1).
    """
    batch, classes, height, width = logits.shape
    return torch.matmul(tokens, logits.reshape(batch, classes, height * width)).sigmoid().reshape(
        batch, tokens.shape[0], height, width)


def token_dice(masks: torch.Tensor) -> torch.Tensor:
    """The mean dice coefficient between the masks of different tokens.

    Args:
        masks: (B, T, H, W) masks, T >= 2.

    Returns:
        scalar: the mean over B·T·(T−1) ordered pairs (i ≠ j) of 2⟨m_i, m_j⟩ / (‖m_i‖² + ‖m_j‖² + 2·10⁻¹²).
    """
    flat = masks.flatten(2)  # (B, T, HW)
    inner = torch.matmul(flat, flat.transpose(1, 2))  # (B, T, T)
    squared_norm = torch.diagonal(inner, dim1=1, dim2=2) + 1e-12  # (B, T)
    dice = 2 * inner / (squared_norm[:, :, None] + squared_norm[:, None, :])
    off_diagonal = ~torch.eye(masks.shape[1], dtype=torch.bool, device=masks.device)
    return dice[:, off_diagonal].mean()


def save_token_file(tokens: torch.Tensor, path: str) -> None:
    """Write ``tokens`` (T, K) to ``path`` (folders created), as the distillation loss reads it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    torch.save({'tokens': tokens.detach().float().cpu().clone()}, path)


def load_token_file(path: str, num_tokens: int, num_classes: int, owner: str) -> torch.Tensor:
    """The (num_tokens, num_classes) float32 tokens stored in ``path``.

    Raises:
        UserFileError: the file is missing, unreadable, or holds tokens of another shape; the message names the
            command that writes it.
    """
    learn = (f'Learn the tokens on the frozen teacher with `{TOKEN_COMMAND}` (CONFIG: the distillation config that '
             'names this file; docs/methods/maskd.md)')
    if not isinstance(path, str) or not path:
        raise UserFileError(f'{owner}: tokens must name a token file (a path string), got {path!r}. {learn}.')
    if not os.path.isfile(path):
        raise UserFileError(f'{owner}: the token file {path!r} does not exist. {learn}, or point tokens= to the file '
                            'it wrote.')
    content = load_checkpoint_file(path, what=f'{owner} token file')
    key = next((key for key in ('tokens', 'mask_token') if isinstance(content, dict) and key in content), None)
    if key is None or not isinstance(content[key], torch.Tensor):
        keys = sorted(content) if isinstance(content, dict) else type(content).__name__
        raise UserFileError(f"{owner}: {path!r} is not a token file (expected a dict with a 'tokens' tensor, found "
                            f'{keys}). {learn}.')
    tokens = content[key]
    if tuple(tokens.shape) != (num_tokens, num_classes):
        raise UserFileError(
            f'{owner}: the token file {path!r} holds tokens of shape {tuple(tokens.shape)}, but the loss is configured '
            f'for num_tokens={num_tokens}, num_classes={num_classes}. Tokens belong to one teacher and one class set: '
            f'{learn} for this teacher, or set num_tokens/num_classes to the file\'s.')
    if not torch.isfinite(tokens).all():
        raise UserFileError(f'{owner}: the token file {path!r} holds non-finite values. {learn} again.')
    return tokens.float()
