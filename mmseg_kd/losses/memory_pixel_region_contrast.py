"""CIRKD memory-based pixel-to-pixel and pixel-to-region contrast distillation (Yang et al., CVPR 2022,
"Cross-Image Relational Knowledge Distillation for Semantic Segmentation", winycg/CIRKD; docs/methods/cirkd.md).

Inputs: student features f_s (B, C_s, h, w), teacher features f_t (B, C_t, h, w), labels (B, H, W)
nearest-resized to (h, w); K classes, ignore label ι.

    u = L2norm_C(g(f_s))  (B, C_t, h, w)     g: 1×1 conv (C_s→C_t, no bias) → BN → ReLU →
                                             1×1 conv (C_t→C_t, no bias), trainable, part of this module
    v = L2norm_C(f_t)     (B, C_t, h, w)     (no projection)
    anchors: the N_a pixels whose label ≠ ι; U, V ∈ R^{N_a × C_t}

Memory (per class k, all processes identical; see ``class_embedding_queue.py``):
    pixel queue Q_p (K, M_p, C_t), region queue Q_r (K, M_r, C_t), random unit vectors at the start.
Every training step, BEFORE the loss, teacher embeddings of the batches of ALL processes are enqueued:
    region entry for each (image, present class k) = L2norm(mean of v over the image's class-k pixels),
    pixel entries for each (image, present class k) = v at min(n_k, 16) randomly chosen class-k pixels
        (``pixel_enqueue='class_pixels'``, the paper), or, as CIRKD's released code does,
        v at min(n_k, 16) random positions among the FIRST n_k raster positions of the image, whatever their
        label (``pixel_enqueue='raster_prefix'``; its ``this_feat[:, perm[:K]]`` indexes the image's pixels
        with a permutation of range(n_k): ContrastiveSeg issue #65).
Contrast sets: one random set of S_p = ⌊P/K⌋ + 1 slot indices (P = ``pixel_contrast_size``, 4096), the
SAME slots for every class ⇒ X_p = Q_p[:, slots] ∈ R^{K·S_p × C_t}; likewise X_r with ⌊R/K⌋ + 1
slots (R = ``region_contrast_size``, 1024).

    a_t = V X_pᵀ / τ,  a_s = U X_pᵀ / τ                          (N_a × K·S_p), τ = 0.1
    L_p2p = τ_kd² · (1/N_a) Σ_n KL(softmax(a_t[n] / τ_kd) ‖ softmax(a_s[n] / τ_kd)),   τ_kd = 1
    L_p2r = the same with X_r

Returned as two terms, logged as ``distill.<name>_pixel`` = λ·w_p·L_p2p and ``distill.<name>_region``
= λ·w_r·L_p2r (λ = ``loss_weight`` × schedule; w_p, w_r = ``pixel_weight``, ``region_weight``, 1 by
default). Both are means over anchors, like mmseg's per-pixel-mean CE, so CIRKD's weights carry over
unchanged: λ = 0.1 on Cityscapes and ADE20K, 0.01 on Pascal VOC (CIRKD issue #8). No valid anchor in the
batch ⇒ both terms are 0 (with gradients, zero, reaching the projection head, as DDP requires).

Implementation choices and deviations from CIRKD's code (docs/methods/cirkd.md):
* Queues are a true FIFO ring buffer (the reference overwrites the last slots instead of the oldest).
* Enqueue: each process selects its own region and pixel entries, then all processes all-gather the
  SELECTED entries (a few thousand rows) and write them in rank order, so the queues stay bit-identical
  on every process. The reference all-gathers the whole feature maps and labels (B·C_t·h·w floats per
  process) and selects on every process; with the same ``pixel_enqueue`` rule the entries enqueued have
  the same distribution.
* Randomness comes from generators seeded by (``seed``, the training iteration the distiller passes,
  stream, rank), not from the global RNG: the contrast slots are identical on every process, the pixel
  choice differs per process (each chooses among its own pixels), and a resumed run draws exactly what
  the uninterrupted run would have drawn.
* The queues are buffers of this module (inside SegDistiller's ``distill_losses``): saved in checkpoints
  and restored on resume. They do not rely on DDP: mmengine's wrapper does not broadcast buffers
  (``broadcast_buffers=False``); CIRKD wraps its module in DDP, whose default buffer broadcast copies
  rank 0's queues to every process.
* Memory: the queues take K·(M_p + M_r)·C_t·4 bytes on every process and in every checkpoint: with
  mmseg's DeepLabV3-R101 teacher (C_t = 512) 19 Cityscapes classes take 856 MB, 150 ADE20K classes
  6.8 GB (CIRKD's 256-channel teacher: half). Lower ``pixel_memory_size`` if that is too much.
"""
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.dist import get_rank
from torch import nn

from mmseg_kd.layers.class_embedding_queue import ClassEmbeddingQueue
from mmseg_kd.losses.distill_loss import DistillLoss, full_precision, labels_at
from mmseg_kd.registry import MODELS
from mmseg_kd.utils.all_gather import all_gather_rows
from mmseg_kd.utils.argument_checks import (
    integer,
    integer_at_least,
    non_negative_number,
    norm_config,
    one_of,
    temperature,
)

# Random streams of the per-iteration generators.
_PIXEL_CHOICE, _PIXEL_SLOTS, _REGION_SLOTS = 0, 1, 2
# Row kinds in the gathered enqueue tensor.
_PIXEL_ROW, _REGION_ROW = 0.0, 1.0
# Which features fill class k's pixel queue: its pixels (the paper), or the released code's raster prefix.
PIXEL_ENQUEUE_RULES = ('class_pixels', 'raster_prefix')


def similarity_kl(student_anchors: torch.Tensor, teacher_anchors: torch.Tensor, contrast: torch.Tensor,
                  tau: float, kd_tau: float) -> torch.Tensor:
    """τ_kd² · mean over anchors n of KL(softmax(V_n Xᵀ/(τ τ_kd)) ‖ softmax(U_n Xᵀ/(τ τ_kd))).

    Args:
        student_anchors: U (N_a, C), teacher_anchors: V (N_a, C), contrast: X (S, C), all unit length.
    """
    log_q = F.log_softmax(student_anchors @ contrast.t() / (tau * kd_tau), dim=1)
    with torch.no_grad():
        log_p = F.log_softmax(teacher_anchors @ contrast.t() / (tau * kd_tau), dim=1)
        p = log_p.exp()
        negative_entropy = (p * log_p).sum(dim=1)
    return kd_tau ** 2 * (negative_entropy - (p * log_q).sum(dim=1)).mean()


def entry_rows(kind: float, labels: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
    """Rows [kind, class, embedding] (n, 2 + C) of n queue entries, for one all-gather of all of them."""
    kinds = torch.full((labels.numel(), 1), kind, device=embeddings.device)
    return torch.cat([kinds, labels.float()[:, None], embeddings.float()], dim=1)


def projection_head(in_channels: int, channels: int, norm_cfg: dict) -> nn.Sequential:
    """CIRKD's student projection: 1×1 conv (no bias) → norm → ReLU → 1×1 conv (no bias)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 1, bias=False),
        build_norm_layer(norm_cfg, channels)[1],
        nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 1, bias=False))


@MODELS.register_module()
class MemoryPixelRegionContrast(DistillLoss):
    """Distil teacher similarities of labelled pixels to memories of pixel and region embeddings.

    Args:
        num_classes: K >= 1, the dataset's classes (19 Cityscapes, 21 VOC, 150 ADE20K).
        ignore_index: label of pixels that are never enqueued and never anchors (mmseg: 255); an integer
            that is not one of the classes 0..K-1.
        pixel_memory_size: M_p >= 1, pixel entries per class (CIRKD: 20,000).
        region_memory_size: M_r >= 1, region entries per class (CIRKD: 2,000).
        pixel_contrast_size: P >= 1; ⌊P/K⌋ + 1 pixel slots per class are contrasted (CIRKD: 4096); at most M_p.
        region_contrast_size: R >= 1; ⌊R/K⌋ + 1 region slots per class are contrasted (CIRKD: 1024); at most
            M_r.
        pixels_per_class_per_image: at most this many (>= 1) pixels of each class of each image are enqueued
            per step (CIRKD: 16).
        pixel_enqueue: which features fill class k's pixel queue: ``'class_pixels'`` (default, the paper):
            random pixels of class k; ``'raster_prefix'`` (CIRKD's released code): random positions among
            the first n_k raster positions of the image (n_k = its number of class-k pixels), whatever
            their label.
        tau: τ > 0, temperature of the similarities (CIRKD: 0.1).
        kd_tau: τ_kd > 0, temperature of the KL between similarity distributions (CIRKD: 1).
        pixel_weight, region_weight: w_p, w_r >= 0, factors of the two terms on top of ``loss_weight``;
            0 leaves a term out (not both).
        norm_cfg: norm layer of the projection head (CIRKD: SyncBN; use BN on CPU).
        student_channels, teacher_channels: C_s, C_t >= 1; by default taken from the tapped tensors when the
            distiller checks shapes at build time (give both to use the loss outside a distiller).
        seed: seed (an integer >= 0) of the queues' initial entries and of the per-iteration random draws.
        loss_weight, weight_schedule: see :class:`DistillLoss`.

    Shapes: student (B, C_s, h_s, w_s), teacher (B, C_t, h, w), gt_labels (B, H, W) →
    ``{'pixel': scalar, 'region': scalar}``. A student map of another size is resized (bilinear) to the
    teacher's.
    """

    uses_labels = True
    needs_equal_channels = False  # its projection head maps the student's width onto the teacher's

    @classmethod
    def unlabeled_images_note(cls, loss_cfg: dict, fill_value: int) -> str:
        """Anchors and memory entries come from labeled pixels only; refused when the unlabeled pixels would count
        as a class (``ignore_index`` other than the fill value)."""
        ignore_index = cls.configured_argument(loss_cfg, 'ignore_index')
        if ignore_index != fill_value:
            raise ValueError(f'ignore_index={ignore_index}, but the unlabeled images are filled with {fill_value}: '
                             f'their pixels would form a class of their own. Set ignore_index={fill_value}')
        return 'learns from labeled pixels only'

    def __init__(self,
                 num_classes: int,
                 ignore_index: int = 255,
                 pixel_memory_size: int = 20000,
                 region_memory_size: int = 2000,
                 pixel_contrast_size: int = 4096,
                 region_contrast_size: int = 1024,
                 pixels_per_class_per_image: int = 16,
                 pixel_enqueue: str = 'class_pixels',
                 tau: float = 0.1,
                 kd_tau: float = 1.0,
                 pixel_weight: float = 1.0,
                 region_weight: float = 1.0,
                 norm_cfg: Optional[dict] = None,
                 student_channels: Optional[int] = None,
                 teacher_channels: Optional[int] = None,
                 seed: int = 0,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.num_classes = integer_at_least(owner, 'num_classes', num_classes, 1)
        self.ignore_index = integer(owner, 'ignore_index', ignore_index)
        if 0 <= self.ignore_index < self.num_classes:
            raise ValueError(f'{owner}: ignore_index must not be one of the classes 0..{self.num_classes - 1}, got '
                             f'{ignore_index!r}; mmseg datasets mark ignored pixels with 255')
        self.pixel_memory_size = integer_at_least(owner, 'pixel_memory_size', pixel_memory_size, 1)
        self.region_memory_size = integer_at_least(owner, 'region_memory_size', region_memory_size, 1)
        self.pixel_slots_per_class = (integer_at_least(owner, 'pixel_contrast_size', pixel_contrast_size, 1)
                                      // self.num_classes + 1)
        self.region_slots_per_class = (integer_at_least(owner, 'region_contrast_size', region_contrast_size, 1)
                                       // self.num_classes + 1)
        for what, slots, memory in (('pixel', self.pixel_slots_per_class, self.pixel_memory_size),
                                    ('region', self.region_slots_per_class, self.region_memory_size)):
            if slots > memory:
                raise ValueError(
                    f'{owner}: {what}_contrast_size // num_classes + 1 = {slots} slots per class exceed '
                    f'{what}_memory_size = {memory}; lower {what}_contrast_size or raise {what}_memory_size')
        self.pixels_per_class_per_image = integer_at_least(owner, 'pixels_per_class_per_image',
                                                           pixels_per_class_per_image, 1)
        self.pixel_enqueue = one_of(owner, 'pixel_enqueue', pixel_enqueue, PIXEL_ENQUEUE_RULES)
        self.tau = temperature(owner, 'tau', tau)
        self.kd_tau = temperature(owner, 'kd_tau', kd_tau)
        self.term_weights = {'pixel': non_negative_number(owner, 'pixel_weight', pixel_weight),
                             'region': non_negative_number(owner, 'region_weight', region_weight)}
        if not any(self.term_weights.values()):
            raise ValueError(f'{owner}: pixel_weight and region_weight are both 0: the loss would compute nothing; '
                             'remove it from distill_losses instead')
        self.norm_cfg = norm_config(owner, 'norm_cfg', norm_cfg, allow_none=True) or dict(type='SyncBN',
                                                                                          requires_grad=True)
        self.seed = integer_at_least(owner, 'seed', seed, 0)
        self.projection = None
        self.pixel_queue = None
        self.region_queue = None
        student_channels = integer_at_least(owner, 'student_channels', student_channels, 1, allow_none=True)
        teacher_channels = integer_at_least(owner, 'teacher_channels', teacher_channels, 1, allow_none=True)
        if (student_channels is None) != (teacher_channels is None):
            raise ValueError(f'{owner}: give both student_channels and teacher_channels, or neither (then they are '
                             'taken from the tapped tensors when the distiller is built)')
        if student_channels is not None:
            self._build(int(student_channels), int(teacher_channels))

    def _build(self, student_channels: int, teacher_channels: int) -> None:
        try:
            self.projection = projection_head(student_channels, teacher_channels, self.norm_cfg)
        except (KeyError, TypeError) as error:  # norm_cfg arguments that its layer does not take
            raise ValueError(f'{type(self).__name__}: norm_cfg {self.norm_cfg!r} cannot be built: {error}') from error
        self.pixel_queue = ClassEmbeddingQueue(self.num_classes, self.pixel_memory_size, teacher_channels,
                                               seed=self.seed)
        self.region_queue = ClassEmbeddingQueue(self.num_classes, self.region_memory_size,
                                                teacher_channels, seed=self.seed + 1)
        self._channels = (student_channels, teacher_channels)

    def prepare(self, student_shape, teacher_shape, teacher, teacher_tap):
        """Build the projection head and the memories once the tapped channel counts are known (unless given)."""
        if self.projection is None and len(student_shape) == 4 and len(teacher_shape) == 4:
            self._build(student_shape[1], teacher_shape[1])

    def check_shapes(self, student_shape, teacher_shape):
        if len(student_shape) != 4 or len(teacher_shape) != 4:
            raise ValueError(f'{type(self).__name__} contrasts pixels of (B, C, H, W) feature maps, got '
                             f'student {tuple(student_shape)} and teacher {tuple(teacher_shape)}')
        channels = (student_shape[1], teacher_shape[1])
        if self.projection is not None and channels != self._channels:
            raise ValueError(f'{type(self).__name__} was built for (student, teacher) channels '
                             f'{self._channels}, the taps give {channels}')

    # ------------------------------------------------------------------ randomness
    def _generator(self, stream: int, iteration: int, rank: int = 0) -> torch.Generator:
        """A CPU generator seeded by (seed, training iteration, stream, rank)."""
        state = np.random.SeedSequence([self.seed, iteration, stream, rank])
        return torch.Generator().manual_seed(int(state.generate_state(1)[0]))

    def _contrast_slots(self, size: int, count: int, stream: int, iteration: int, device) -> torch.Tensor:
        """``count`` random distinct slots of ``size``, identical on every process, drawn for ``iteration``."""
        return torch.randperm(size, generator=self._generator(stream, iteration))[:count].to(device)

    # ------------------------------------------------------------------ memory update
    @torch.no_grad()
    def _local_entries(self, embeddings: torch.Tensor, labels: torch.Tensor, iteration: int) -> torch.Tensor:
        """This process's new entries as rows [kind, class, embedding (C_t)]: pixels, then regions.

        Args:
            embeddings: v, (B, C_t, h, w) unit-length teacher embeddings.
            labels: (B, h, w).
            iteration: the training iteration (seeds the choice of pixels).
        """
        batch, channels = embeddings.shape[:2]
        classes = self.num_classes
        all_pixels = embeddings.flatten(2).transpose(1, 2).reshape(-1, channels)  # (B·h·w, C_t), raster order
        flat_labels = labels.reshape(batch, -1)
        valid = flat_labels != self.ignore_index
        image_of_pixel = torch.arange(batch, device=labels.device)[:, None].expand_as(flat_labels)
        group = (image_of_pixel * classes + flat_labels)[valid]                  # image-major, class id
        pixels, pixel_labels = all_pixels[valid.reshape(-1)], flat_labels[valid]
        group_sizes = torch.bincount(group, minlength=batch * classes)

        sums = torch.zeros(batch * classes, channels, device=pixels.device, dtype=pixels.dtype)
        sums.index_add_(0, group, pixels)
        present = torch.nonzero(group_sizes).squeeze(1)
        regions = F.normalize(sums[present], p=2, dim=1)
        region_labels = present % classes

        rank = get_rank()
        random_keys = torch.rand(group.numel(), generator=self._generator(_PIXEL_CHOICE, iteration, rank),
                                 dtype=torch.float64).to(group.device)
        order = torch.argsort(group.double() + random_keys)  # grouped, random order inside each group
        first_of_group = torch.cumsum(group_sizes, 0) - group_sizes
        position = torch.arange(group.numel(), device=group.device) - first_of_group[group[order]]
        chosen = order[position < self.pixels_per_class_per_image]
        chosen_pixels = pixels[chosen]
        if self.pixel_enqueue == 'raster_prefix':
            # the chosen pixel's rank among its group's pixels in raster order, a random subset of range(n_k),
            # taken as a raster position of its image
            by_group = torch.argsort(group, stable=True)
            raster_rank = torch.empty_like(group)
            raster_rank[by_group] = torch.arange(group.numel(), device=group.device) - first_of_group[group[by_group]]
            image = torch.div(group[chosen], classes, rounding_mode='floor')
            chosen_pixels = all_pixels[image * flat_labels.shape[1] + raster_rank[chosen]]

        return torch.cat([entry_rows(_PIXEL_ROW, pixel_labels[chosen], chosen_pixels),
                          entry_rows(_REGION_ROW, region_labels, regions)])

    @torch.no_grad()
    def enqueue(self, embeddings: torch.Tensor, labels: torch.Tensor, iteration: int = 0) -> None:
        """Add the entries of every process's batch to the queues (identically on every process)."""
        entries = all_gather_rows(self._local_entries(embeddings, labels, iteration))
        kinds, entry_labels, values = entries[:, 0], entries[:, 1].long(), entries[:, 2:]
        for kind, queue in ((_PIXEL_ROW, self.pixel_queue), (_REGION_ROW, self.region_queue)):
            rows = kinds == kind
            queue.push(values[rows], entry_labels[rows])

    # ------------------------------------------------------------------ loss
    def _checked_labels(self, gt_labels: Optional[torch.Tensor], size) -> torch.Tensor:
        if gt_labels is None:
            raise ValueError(f'{type(self).__name__} needs gt_labels (B, H, W)')
        labels = labels_at(gt_labels, size)
        wrong = (labels != self.ignore_index) & ((labels < 0) | (labels >= self.num_classes))
        if wrong.any():
            raise ValueError(
                f'{type(self).__name__}: labels {sorted(set(labels[wrong].unique().tolist()))[:10]} are '
                f'neither ignore_index={self.ignore_index} nor classes 0..{self.num_classes - 1}; set '
                "num_classes to the dataset's class count and ignore_index to its ignore label")
        return labels

    def unweighted(self, student: torch.Tensor, teacher: torch.Tensor,
                   gt_labels: Optional[torch.Tensor] = None, iteration: int = 0) -> Dict[str, torch.Tensor]:
        if self.projection is None:
            raise RuntimeError(f'{type(self).__name__} is not built yet: SegDistiller builds it when it '
                               'prepares its terms; outside a distiller give student_channels and '
                               'teacher_channels')
        if student.shape[-2:] != teacher.shape[-2:]:
            student = F.interpolate(student, size=teacher.shape[-2:], mode='bilinear', align_corners=False)
        labels = self._checked_labels(gt_labels, teacher.shape[-2:])
        teacher_embeddings = F.normalize(teacher.float(), p=2, dim=1)
        student_embeddings = F.normalize(self.projection(student).float(), p=2, dim=1)
        if self.training:
            self.enqueue(teacher_embeddings, labels, iteration)

        valid = labels != self.ignore_index
        student_anchors = student_embeddings.permute(0, 2, 3, 1)[valid]
        teacher_anchors = teacher_embeddings.permute(0, 2, 3, 1)[valid]
        terms = {}
        for term, queue, slots_per_class, stream in (
                ('pixel', self.pixel_queue, self.pixel_slots_per_class, _PIXEL_SLOTS),
                ('region', self.region_queue, self.region_slots_per_class, _REGION_SLOTS)):
            if self.term_weights[term] == 0:
                continue
            if student_anchors.shape[0] == 0:
                terms[term] = student_embeddings.sum() * 0.0
                continue
            slots = self._contrast_slots(queue.size, slots_per_class, stream, iteration, student.device)
            terms[term] = similarity_kl(student_anchors, teacher_anchors, queue.sample(slots), self.tau,
                                        self.kd_tau)
        return terms

    def forward(self, student: torch.Tensor, teacher: torch.Tensor, iteration: int = 0,
                gt_labels: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """``{'pixel': λ·w_p·L_p2p, 'region': λ·w_r·L_p2r}`` at training iteration ``iteration`` (its weight and
        random draws). The queues are updated in training mode, also while the scheduled weight λ is 0 (so they
        are full when the loss starts to count)."""
        weight = self.current_weight(iteration)
        with full_precision(student):
            terms = self.unweighted(student.float(), teacher.detach().float(), gt_labels=gt_labels,
                                    iteration=iteration)
        return {term: weight * self.term_weights[term] * value for term, value in terms.items()}
