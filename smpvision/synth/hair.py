"""Hair strands splatted as area: each strand deposits (width × step) at points along its path.

Accumulating area (instead of drawing opaque lines) makes dense hair hide the scalp the way real hair
does (coverage = 1 − exp(−area)), and keeps a few thousand overlapping strands cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

HAIR_FORMS: tuple[str, ...] = ("straight", "wavy", "coiled")
_MAX_SAMPLES = 200_000  # strands × steps; beyond this strands are subsampled with compensating width


@dataclass
class StrandLayer:
    coverage: np.ndarray  # (H, W) float32 0..1: fraction of the pixel hidden by hair
    colour: np.ndarray  # (H, W, 3) float32 mean colour of the hair over each pixel


def splat_strands(
    rng: np.random.Generator,
    shape: tuple[int, int],
    start: np.ndarray,
    direction: np.ndarray,
    length_px: np.ndarray,
    width_px: np.ndarray,
    colour: np.ndarray,
    form: str = "straight",
    flow: np.ndarray | None = None,
    follow: float = 0.0,
) -> StrandLayer:
    """start (n, 2) xy; direction (n, 2) unit; length/width (n,) px; colour (n, 3).

    flow: optional (H, W, 2) direction field that long strands bend towards (`follow` 0..1 per step).
    """
    h, w = shape
    n = len(start)
    if n == 0:
        return StrandLayer(np.zeros(shape, np.float32), np.zeros((*shape, 3), np.float32))
    steps = int(np.clip(np.ceil(float(length_px.max()) / 1.0), 1, 40))
    weight = width_px.astype(np.float32)
    if n * steps > _MAX_SAMPLES:  # keep cost bounded: fewer, proportionally wider strands
        keep = rng.choice(n, _MAX_SAMPLES // steps, replace=False)
        weight = weight[keep] * (n / len(keep))
        start, direction, length_px, colour = start[keep], direction[keep], length_px[keep], colour[keep]
        n = len(keep)
    step = (length_px / steps).astype(np.float32)
    pos = start.astype(np.float32).copy()
    d = direction.astype(np.float32).copy()
    phase = rng.uniform(0, 2 * np.pi, n).astype(np.float32)
    curl = {"straight": 0.0, "wavy": 0.35, "coiled": 1.1}[form]
    freq = {"straight": 0.0, "wavy": 0.6, "coiled": 2.2}[form]
    path = np.empty((steps, n, 2), np.float32)
    for k in range(steps):
        if flow is not None and follow > 0:
            xi = np.clip(pos[:, 0].astype(np.int32), 0, w - 1)
            yi = np.clip(pos[:, 1].astype(np.int32), 0, h - 1)
            d = d * (1 - follow) + flow[yi, xi] * follow
        if curl:
            ang = curl * np.sin(phase + freq * k) * 0.5
            c, s_ = np.cos(ang), np.sin(ang)
            d = np.stack([d[:, 0] * c - d[:, 1] * s_, d[:, 0] * s_ + d[:, 1] * c], 1)
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
        path[k] = pos
        pos += d * step[:, None]
    # one bincount over all samples: strand area per pixel, and colour-weighted area
    xi = np.round(path[..., 0]).astype(np.int64).ravel()
    yi = np.round(path[..., 1]).astype(np.int64).ravel()
    area = np.broadcast_to(weight * step, (steps, n)).ravel()
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    idx = yi[ok] * w + xi[ok]
    a = area[ok]
    cov = np.bincount(idx, a, h * w).astype(np.float32)
    # colour changes slowly along a strand: four samples per strand weigh the colour mix
    sel = np.zeros((steps, n), bool)
    sel[np.unique(np.linspace(0, steps - 1, min(steps, 4)).astype(int))] = True
    sel = sel.ravel()[ok]
    strand = np.broadcast_to(np.arange(n), (steps, n)).ravel()[ok][sel]
    idx_c, a_c = idx[sel], a[sel]
    col = np.stack([np.bincount(idx_c, a_c * colour[strand, c], h * w) for c in range(3)], 1).astype(
        np.float32
    )
    col_w = np.bincount(idx_c, a_c, h * w).astype(np.float32)
    cov = cov.reshape(h, w)
    # sub-pixel softness of thin shafts, then area → coverage (overlapping strands saturate)
    cov_b = cv2.GaussianBlur(cov, (0, 0), 0.55)
    col_b = cv2.GaussianBlur(col.reshape(h, w, 3), (0, 0), 1.5)
    w_b = cv2.GaussianBlur(col_w.reshape(h, w), (0, 0), 1.5)[..., None]
    mean_col = np.where(w_b > 1e-5, col_b / np.maximum(w_b, 1e-9), colour.mean(0).astype(np.float32))
    coverage = 1.0 - np.exp(-cov_b)
    return StrandLayer(coverage.astype(np.float32), mean_col.astype(np.float32))


def sample_length_mm(rng: np.random.Generator) -> tuple[str, float]:
    """Hair length style of a client: shaved stubble, short crop, or long hair lying over the scalp."""
    style = str(rng.choice(["shaved", "short", "long"], p=[0.35, 0.4, 0.25]))
    length = {"shaved": rng.uniform(0.1, 1.0), "short": rng.uniform(1.5, 12.0), "long": rng.uniform(25, 90)}
    return style, float(length[style])
