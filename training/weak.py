"""A weak severity signal from real photos: the CC BY 4.0 hair-loss-levels set (realdata/README.md) has a
Norwood-like level per photo and no masks. Two things hold for its photos whatever the masks would be:

- of two photos of one view, the higher level shows at least as much thinning + bald scalp (a ranking,
  never a target share: the set says nothing about how much of the scalp a level is);
- they are hair-loss photos, not scar photos: a model calling a large part of one scar has confused bald
  scalp for scar (renderer-v7 model v3 did so on 33 of 300, MODEL_CARD.md).

Only the persons realdata.is_training_person picks are used; `smpvision evaluate` scores the rest
(`severity_heldout`). The trichoscopy set has no license and is never used here.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .augment import build_augment
from .realdata import is_training_person, load_hairloss_levels, load_rgb


class LevelPairs:
    """Pairs (higher level, lower level) of one view from the training persons, decoded once and kept at
    the training size (the photos are 640×640; ~800 of them at 256 px hold ~160 MB)."""

    def __init__(self, root: Path | str, size: int, seed: int = 0) -> None:
        photos = [p for p in load_hairloss_levels(root) if is_training_person(p)]
        if not photos:
            raise ValueError(f"{root}: no photos of training persons; is it hairloss-levels/?")
        self.images = [_fit_square(load_rgb(p.path), size) for p in photos]
        self.levels = [p.level for p in photos]
        by_view: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(photos):
            by_view[p.view].append(i)
        # a view needs two levels to rank
        self.by_view = {v: idx for v, idx in by_view.items() if len({self.levels[i] for i in idx}) > 1}
        if not self.by_view:
            raise ValueError(f"{root}: no view has photos of two different levels to rank")
        self.rng = random.Random(seed)
        self.augment = build_augment("real", size)

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, pairs: int) -> dict[str, torch.Tensor]:
        """`images` uint8 [2·pairs, H, W, 3] as (higher, lower) level pairs; `levels` int64 [2·pairs]."""
        images, levels = [], []
        views = sorted(self.by_view)
        for _ in range(pairs):
            idx = self.by_view[self.rng.choice(views)]
            a = self.rng.choice(idx)
            b = self.rng.choice([i for i in idx if self.levels[i] != self.levels[a]])
            for i in sorted((a, b), key=lambda i: -self.levels[i]):
                images.append(self.augment(image=self.images[i])["image"])
                levels.append(self.levels[i])
        return {
            "images": torch.from_numpy(np.stack(images)),
            "levels": torch.tensor(levels, dtype=torch.int64),
        }


def _fit_square(image: np.ndarray, size: int) -> np.ndarray:
    """The photos were stretched to a square by their export: bring them to the training size whole."""
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def weak_level_losses(
    logits: torch.Tensor, levels: torch.Tensor, margin_per_level: float, scar_allowance: float
) -> dict[str, torch.Tensor]:
    """logits [2k, 5, H, W] zone logits of (higher, lower) level pairs; levels [2k].

    `severity_rank`: hinge on the soft loss share (thinning + bald probability over scalp probability):
    the higher level's share must exceed the lower's by margin_per_level × the level gap.
    `real_scar`: the soft scar share above `scar_allowance`, averaged over the photos."""
    probs = logits.softmax(1)
    scalp = (1 - probs[:, 0]).sum((1, 2)).clamp_min(1.0)
    loss_share = (probs[:, 2] + probs[:, 3]).sum((1, 2)) / scalp
    scar_share = probs[:, 4].sum((1, 2)) / scalp
    gap = (levels[0::2] - levels[1::2]).to(logits.dtype)
    rank = F.relu(margin_per_level * gap - (loss_share[0::2] - loss_share[1::2])).mean()
    scar = F.relu(scar_share - scar_allowance).mean()
    return {"severity_rank": rank, "real_scar": scar}
