"""Cheap smooth noise: random grids upsampled with bicubic interpolation, summed over octaves."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_noise(
    rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 3, persistence: float = 0.5
) -> np.ndarray:
    """Zero-mean, unit-std noise (float32); `cells` = features across the longer side.

    Octaves are summed on a small working grid (a few pixels per finest feature) and upsampled once:
    the result is smooth at that scale anyway, and one full-size resize is the whole cost.
    """
    long_side = max(h, w)
    finest = cells * 2 ** (octaves - 1)
    work = int(min(long_side, max(8, finest * 6)))
    wh, ww = max(2, round(work * h / long_side)), max(2, round(work * w / long_side))
    out = np.zeros((wh, ww), np.float32)
    amp = 1.0
    for o in range(octaves):
        c = max(2, int(round(cells * 2**o)))
        gh, gw = max(2, round(c * h / long_side)) + 3, max(2, round(c * w / long_side)) + 3
        grid = rng.standard_normal((gh, gw), dtype=np.float32)
        # resize a grid one cell larger than needed and crop, so borders are not stretched
        up = cv2.resize(grid, (ww * gw // (gw - 2), wh * gh // (gh - 2)), interpolation=cv2.INTER_CUBIC)
        oy, ox = (up.shape[0] - wh) // 2, (up.shape[1] - ww) // 2
        out += amp * up[oy : oy + wh, ox : ox + ww]
        amp *= persistence
    out -= float(out.mean())
    out /= max(float(out.std()), 1e-6)
    if (wh, ww) != (h, w):
        out = cv2.resize(
            out, (w, h), interpolation=cv2.INTER_LINEAR if work >= long_side / 2 else cv2.INTER_CUBIC
        )
    return out
