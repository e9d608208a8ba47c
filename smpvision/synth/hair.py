"""Hair strands splatted as area: each strand deposits (width × step) at points along its path.

Accumulating area (instead of drawing opaque lines) makes dense hair hide the scalp the way real hair
does (coverage = 1 − exp(−area)), and keeps a few thousand overlapping strands cheap.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

HAIR_FORMS: tuple[str, ...] = ("straight", "wavy", "coiled")
_MAX_SAMPLES = 120_000  # strands × steps; beyond this strands are subsampled with compensating width


@dataclass
class StrandLayer:
    coverage: np.ndarray  # (H, W) float32 0..1: fraction of the pixel hidden by hair
    colour: np.ndarray  # (H, W, 3) float32 mean colour of the hair over each pixel


def strand_steps(length_px: np.ndarray) -> int:
    """Samples along each strand (about one per 1.4 px of the longest)."""
    return int(np.clip(np.ceil(float(length_px.max(initial=1.0)) / 1.4), 1, 32))


def strand_budget(length_px: np.ndarray) -> int:
    """How many strands splat_strands draws at most: callers can subsample before computing colours."""
    return max(1, _MAX_SAMPLES // strand_steps(length_px))


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
    steps = strand_steps(length_px)
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
    curl = {"straight": 0.0, "wavy": 0.3, "coiled": 0.8}[form]
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
        if curl or flow is not None:
            d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-6)
        path[k] = pos
        pos += d * step[:, None]
    # one bincount over all samples: strand area per pixel
    xi = np.round(path[..., 0]).astype(np.int64).ravel()
    yi = np.round(path[..., 1]).astype(np.int64).ravel()
    ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    xi, yi = xi[ok], yi[ok]
    a = np.broadcast_to(weight * step, (steps, n)).ravel()[ok]
    cov = np.bincount(yi * w + xi, a, h * w).astype(np.float32).reshape(h, w)
    # sub-pixel softness of thin shafts, then area → coverage (overlapping strands saturate)
    coverage = 1.0 - np.exp(-cv2.GaussianBlur(cov, (0, 0), 0.65))
    # colour changes slowly along and across strands: four samples per strand, splatted at half size
    sel = np.zeros((steps, n), bool)
    sel[np.unique(np.linspace(0, steps - 1, min(steps, 4)).astype(int))] = True
    sel = sel.ravel()[ok]
    strand = np.broadcast_to(np.arange(n), (steps, n)).ravel()[ok][sel]
    hh, hw = (h + 1) // 2, (w + 1) // 2
    idx_c = (yi[sel] // 2) * hw + xi[sel] // 2
    a_c = a[sel]
    fallback = colour.mean(0)
    eps = 1e-4  # a trace of the mean strand colour where no colour sample landed
    col = np.stack(
        [np.bincount(idx_c, a_c * colour[strand, c], hh * hw) + eps * fallback[c] for c in range(3)], 1
    )
    col /= (np.bincount(idx_c, a_c, hh * hw) + eps)[:, None]
    mean_col = cv2.resize(col.reshape(hh, hw, 3).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return StrandLayer(coverage, mean_col)


def sample_length_mm(
    rng: np.random.Generator, closeup: bool = False, trichoscope: bool = False
) -> tuple[str, float]:
    """Hair length style of a client: shaved stubble, short crop, or long hair lying over the scalp.
    Close-ups (trichoscopy, density checks) are mostly taken of shaved or clipped scalp.

    trichoscope: the "shaved" stubs of a dermoscope frame are clipped, not razor-shaved (renderer v8): a
    trichoscopy count is taken on hair cut to about a millimetre, whose shafts then show 0.2–0.7 mm
    (p10–p90 of the boxes in real trichoscopy frames: 0.21–0.66 mm). Razor-short 0.1 mm stubs made the
    rendered dermoscope stubs dots, not shafts (p10 0.12 mm). The same draws are taken either way, so
    every other photo renders as before."""
    p = [0.5, 0.35, 0.15] if closeup else [0.35, 0.4, 0.25]
    style = str(rng.choice(["shaved", "short", "long"], p=p))
    shaved = rng.uniform(0.3, 1.0) if trichoscope else rng.uniform(0.1, 1.0)
    length = {"shaved": shaved, "short": rng.uniform(1.5, 12.0), "long": rng.uniform(25, 90)}
    return style, float(length[style])
