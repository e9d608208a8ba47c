"""Training data: an endless stream of rendered scalps, optionally mixed with annotated-photo folders.

Every item is a dict of tensors: `image` uint8 [H, W, 3] (normalised later by `model.preprocess`, the same
function the ONNX graph uses), `zones` int64 [H, W] (255 = ignore), `hairs` float32 [H, W] hair points
splatted to pixels, `has_hairs` (0 when a folder label says the hair count is unknown), and `relative`
float32 [H, W] with `has_relative`: the relative hair density the renderer thresholded hair / thinning /
bald from (folders and no-scalp scenes have none).

Seeds: see training/seeds.py (training and held-out scenes come from disjoint seed spaces).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from smpvision.annotations import AnnotatedFolder
from smpvision.contracts import CLOSEUP_REGIONS
from smpvision.synth import render_sample
from smpvision.synth.negative import render_negative

from .augment import build_augment
from .config import DataConfig
from .metrics import closeup_zone_targets, visible_zone_targets
from .seeds import TRAIN_TAG


def splat_points(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Count map: how many hair points fall in each pixel (points are xy, pixel centres at integers)."""
    out = np.zeros(height * width, np.float32)
    if len(points):
        pts = np.asarray(points, np.float32)[:, :2]
        x = np.clip(np.floor(pts[:, 0] + 0.5).astype(np.int64), 0, width - 1)
        y = np.clip(np.floor(pts[:, 1] + 0.5).astype(np.int64), 0, height - 1)
        out += np.bincount(y * width + x, minlength=height * width).astype(np.float32)
    return out.reshape(height, width)


def to_item(
    image: np.ndarray, zones: np.ndarray, points: np.ndarray | None, relative: np.ndarray | None = None
) -> dict[str, torch.Tensor]:
    h, w = zones.shape
    hairs = splat_points(points, h, w) if points is not None else np.zeros((h, w), np.float32)
    rel = np.zeros((h, w), np.float32) if relative is None else np.asarray(relative, np.float32)
    return {
        "image": torch.from_numpy(np.ascontiguousarray(image)),
        "zones": torch.from_numpy(zones.astype(np.int64)),
        "hairs": torch.from_numpy(hairs),
        "has_hairs": torch.tensor(float(points is not None)),
        "relative": torch.from_numpy(np.ascontiguousarray(rel)),
        "has_relative": torch.tensor(float(relative is not None)),
    }


class ScalpStream(IterableDataset):
    """Endless, per-worker-deterministic stream. Each rendered scene is kept in a small pool and served
    `reuse` times under different augmentations: rendering costs more than an augmentation, and the pool
    keeps consecutive items from being views of the same scene."""

    def __init__(self, cfg: DataConfig, seed: int = 1, rank: int = 0, pool: int = 8) -> None:
        super().__init__()
        if cfg.closeup_region and cfg.closeup_region not in CLOSEUP_REGIONS:
            valid = ", ".join(CLOSEUP_REGIONS)
            region = cfg.closeup_region
            raise ValueError(f"data.closeup_region must be empty or one of {valid}, not {region!r}")
        self.cfg, self.seed, self.rank, self.pool_size = cfg, seed, rank, pool
        self.folders = [AnnotatedFolder(Path(f.path)) for f in cfg.folders]
        for source, folder in zip(cfg.folders, self.folders, strict=True):
            if len(folder) == 0:
                raise ValueError(f"annotated folder {source.path} has no images; remove it from data.folders")

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = get_worker_info()
        worker = info.id if info is not None else 0
        rng = random.Random(hash((TRAIN_TAG, self.seed, self.rank, worker)))
        augment = build_augment(self.cfg.augment, self.cfg.size)
        weights = [self.cfg.render_weight] + [f.weight for f in self.cfg.folders]
        pool: list[list] = []  # [image, zones, points, relative density, uses_left]
        counter = 0
        while True:
            source = rng.choices(range(len(weights)), weights)[0]
            if source == 0:
                while len(pool) < self.pool_size:
                    if rng.random() < self.cfg.negative_fraction:  # a photo with no scalp at all
                        image, zones = render_negative(
                            (TRAIN_TAG, self.seed, self.rank, worker, counter), self.cfg.size
                        )
                        counter += 1
                        pool.append([image, zones, np.zeros((0, 2), np.float32), None, self.cfg.reuse])
                        continue
                    kind = region = None  # None: the renderer draws them (every run before the option)
                    if self.cfg.closeup_region:  # kind drawn here, so a close-up's device can be fixed
                        closeup = rng.random() < self.cfg.closeup_fraction
                        kind = "closeup" if closeup else "overview"
                        region = self.cfg.closeup_region if closeup else None
                    s = render_sample(
                        (TRAIN_TAG, self.seed, self.rank, worker, counter),
                        size=self.cfg.size,
                        kind=kind,
                        closeup_fraction=self.cfg.closeup_fraction,
                        region=region,
                    )
                    counter += 1
                    zones = visible_zone_targets(s.zones, s.hidden) if self.cfg.visible_zones else s.zones
                    if self.cfg.closeup_zones == "ignore" and s.meta["view"]["kind"] == "closeup":
                        zones = closeup_zone_targets(zones)
                    pool.append([s.image, zones, s.hairs, s.relative_density, self.cfg.reuse])
                slot = rng.randrange(len(pool))
                image, zones, points, relative, _ = pool[slot]
                pool[slot][4] -= 1
                if pool[slot][4] <= 0:
                    pool.pop(slot)
            else:
                folder = self.folders[source - 1]
                sample = folder[rng.randrange(len(folder))]
                hairs = sample.label.get("hairs")
                image, zones, relative = sample.image, sample.zones, None
                points = np.asarray(hairs, np.float32).reshape(-1, 2) if hairs is not None else None
            yield augment_item(augment, image, zones, points, relative)


def augment_item(
    augment,
    image: np.ndarray,
    zones: np.ndarray,
    points: np.ndarray | None,
    relative: np.ndarray | None = None,
) -> dict:
    """Run an albumentations preset and convert to tensors. Our points put pixel centres at integers;
    albumentations puts pixel edges there (range [0, W)), hence the half-pixel shifts. The relative
    density rides along as a second mask (nearest-neighbour, like the zones it was thresholded into)."""
    pts = np.zeros((0, 2), np.float32) if points is None else np.asarray(points, np.float32)[:, :2] + 0.5
    h, w = zones.shape
    pts = pts[(pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)]
    rel = np.zeros((h, w), np.float32) if relative is None else relative
    out = augment(image=image, masks=[zones, rel], keypoints=pts)
    kept = np.asarray(out["keypoints"], np.float32)
    kept = (kept[:, :2] if kept.ndim == 2 else np.zeros((0, 2), np.float32)) - 0.5
    zones_out, rel_out = out["masks"]
    return to_item(
        out["image"],
        zones_out,
        kept if points is not None else None,
        rel_out if relative is not None else None,
    )
