"""Per-class ring buffers of embeddings: the memory banks of CIRKD's memory-based contrast.

For K classes, M slots and C channels the buffers are

    embeddings (K, M, C)   slot contents, initialised to random unit vectors (seeded)
    pointers   (K,)        the next slot to write for each class (= the oldest entry once full)

Pushing n_k new entries of class k writes them, in the order given, to slots
(pointer_k + 0), (pointer_k + 1), ... (pointer_k + n_k − 1), all mod M, and advances
pointer_k ← (pointer_k + n_k) mod M: a true FIFO that always overwrites the OLDEST entries. When n_k > M
only the newest M are kept. (CIRKD's code, inherited from ContrastiveSeg, overwrites the LAST n_k slots
and resets the pointer to 0 when pointer + n_k reaches M, so the last slots are refreshed more often and
entries of very different ages coexist; see docs/methods/cirkd.md, ContrastiveSeg issues #31/#47. The ring buffer
is a deliberate fix: with M = 20,000 and ≤ 256 new entries per class per step the two differ only in which
stale entries survive.)

Both are registered buffers: they are saved in checkpoints and restored on resume.
"""
import torch
import torch.nn.functional as F
from torch import nn

from mmseg_kd.utils.argument_checks import integer_at_least


class ClassEmbeddingQueue(nn.Module):
    """K ring buffers of M unit-length C-dimensional embeddings, one per class.

    Args:
        num_classes: K >= 1.
        size: M >= 1, slots per class.
        channels: C >= 1.
        seed: seed (an integer >= 0) of the random unit vectors the slots start with (identical on every process).
    """

    def __init__(self, num_classes: int, size: int, channels: int, seed: int = 0):
        super().__init__()
        owner = type(self).__name__
        self.num_classes = integer_at_least(owner, 'num_classes', num_classes, 1)
        self.size = integer_at_least(owner, 'size', size, 1)
        self.channels = integer_at_least(owner, 'channels', channels, 1)
        seed = integer_at_least(owner, 'seed', seed, 0)
        generator = torch.Generator().manual_seed(seed)
        embeddings = torch.empty(num_classes, size, channels)
        for k in range(num_classes):  # one class at a time: no second full-size temporary
            embeddings[k] = F.normalize(torch.randn(size, channels, generator=generator), p=2, dim=1)
        self.register_buffer('embeddings', embeddings)
        self.register_buffer('pointers', torch.zeros(num_classes, dtype=torch.long))

    def extra_repr(self) -> str:
        return f'num_classes={self.num_classes}, size={self.size}, channels={self.channels}'

    @torch.no_grad()
    def push(self, entries: torch.Tensor, classes: torch.Tensor) -> None:
        """Write ``entries`` (n, C) of ``classes`` (n,) into their classes' rings, oldest slots first.

        Entries of one class are written in the order they appear in ``entries``.
        """
        if entries.shape[0] == 0:
            return
        classes = classes.long()
        order = torch.argsort(classes, stable=True)
        entries, classes = entries[order], classes[order]
        counts = torch.bincount(classes, minlength=self.num_classes)
        first_of_class = torch.cumsum(counts, 0) - counts
        position = torch.arange(classes.numel(), device=classes.device) - first_of_class[classes]
        newest = position >= counts[classes] - self.size  # an older entry would be overwritten anyway
        slots = (self.pointers[classes] + position) % self.size
        self.embeddings[classes[newest], slots[newest]] = entries[newest].to(self.embeddings.dtype)
        self.pointers.copy_((self.pointers + counts) % self.size)

    def sample(self, slots: torch.Tensor) -> torch.Tensor:
        """The entries at ``slots`` (S,) of every class, class by class: (K·S, C)."""
        return self.embeddings[:, slots].reshape(-1, self.channels)
