"""A dermoscope's shallow depth of field: part of the frame sharp, the rest increasingly blurred.

At 50–70× the depth of field is a fraction of a millimetre. The scalp is curved and the lens is rarely
held square to it, so real trichoscopy frames are sharp along one band and soft, sometimes smeared to dark
smudges, away from it (renderer v12). Blurring changes the pixels only: every hair keeps its point and its
zone, as an annotator still boxes a blurred shaft.

The draws come from a generator of their own (seeded from the sample's seed), so a frame rendered with the
depth of field is the same frame as before with only its sharpness changed.
"""

from __future__ import annotations

import cv2
import numpy as np

from .noise import smooth_noise

FOCUS_STREAM = 0x666F6375  # "focu": independent of the photo's own draws
SHARE = 0.7  # of dermoscope frames whose focus varies across the field
MAX_BLUR_MM = (0.025, 0.09)  # Gaussian sigma at the frame's softest point
_LEVELS = 4  # blurred copies interpolated between (sigma 0, 1/3, 2/3, 1 of the largest)


def focus_rng(seed: int | tuple[int, ...] | list[int]) -> np.random.Generator:
    return np.random.default_rng([FOCUS_STREAM, *np.atleast_1d(seed).tolist()])


def blur_field(rng: np.random.Generator, size: int, mm_px: float) -> np.ndarray:
    """Gaussian sigma in px per pixel (float32, size×size): 0 on a focal band across the frame, growing
    linearly away from it (the lens tilted against the scalp) with a smooth wobble (the scalp's curve)."""
    angle = rng.uniform(0, 2 * np.pi)
    focus_at = rng.uniform(-0.4, 1.0)  # where the sharp band lies along the tilt; < 0: off the frame
    reach = rng.uniform(0.5, 1.2)  # frame widths from the band to the softest blur
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / max(size - 1, 1)
    along = (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle) + 0.5
    wobble = 0.12 * smooth_noise(rng, size, size, 1.5, 2)
    depth = np.clip(np.abs(along + wobble - focus_at) / reach, 0.0, 1.0)
    return (depth * rng.uniform(*MAX_BLUR_MM) / mm_px).astype(np.float32)


def depth_of_field(rng: np.random.Generator, img: np.ndarray, mm_px: float) -> np.ndarray:
    """img (float32 H×W×3, 0..1) with focus varying across it, or unchanged in 1 − SHARE of frames."""
    if rng.random() >= SHARE:
        return img
    sigma = blur_field(rng, img.shape[0], mm_px)
    top = float(sigma.max())
    if top < 0.3:  # under a third of a pixel: nothing to see
        return img
    steps = np.linspace(0.0, top, _LEVELS, dtype=np.float32)
    stack = [img] + [cv2.GaussianBlur(img, (0, 0), float(s)) for s in steps[1:]]
    pos = sigma / (steps[1] - steps[0])  # fractional level per pixel
    lo = np.clip(np.floor(pos).astype(np.int64), 0, _LEVELS - 2)
    frac = (pos - lo)[..., None]
    out = np.zeros_like(img)
    for k in range(_LEVELS - 1):
        here = (lo == k)[..., None]
        out += here * (stack[k] * (1 - frac) + stack[k + 1] * frac)
    return out.astype(np.float32)
