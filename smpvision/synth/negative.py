"""Photos with no scalp in them (walls, floors, fabric, a room, sensor noise), labelled all background.

Without them a model that only ever saw scalps calls any full-frame surface "scar" (measured on the
first shipped model: a plain wall came out 100 % scar at 0.91 confidence). Patterned negatives keep their
colours away from skin (neutral, or hues skin never has). Plain painted walls also come in the beiges,
creams and peaches that clinics paint their walls (model v2, trained without them, called such walls bald
scalp): what tells them from a bare-scalp close-up is texture (pores, follicles, furrows), not colour.
"""

from __future__ import annotations

import cv2
import numpy as np

from .camera import apply_photometric, jpeg_roundtrip, quantise
from .noise import smooth_noise
from .scene import backdrop, paint_colour

KINDS = ("wall", "room", "stripes", "tiles", "noise")
KIND_WEIGHTS = (0.4, 0.15, 0.15, 0.15, 0.15)  # a plain wall is the likeliest no-scalp photo


def _non_skin_colour(rng: np.random.Generator) -> np.ndarray:
    """sRGB 0..1: a grey (any lightness, slightly tinted) or a saturated blue/green/purple."""
    if rng.random() < 0.6:
        return np.clip(rng.uniform(0.08, 0.95) + rng.normal(0, 0.015, 3), 0, 1)
    hue = rng.choice([rng.uniform(90, 170), rng.uniform(190, 290)])  # greens, blues and purples
    hsv = np.uint8([[[hue / 2, rng.uniform(60, 230), rng.uniform(60, 240)]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255.0


def render_negative(seed, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8 [size, size, 3], zones uint8 all 0)."""
    rng = np.random.default_rng(seed)
    kind = str(rng.choice(KINDS, p=KIND_WEIGHTS))
    c0, c1 = _non_skin_colour(rng), _non_skin_colour(rng)
    if kind == "room":
        img = backdrop(rng, size)
    elif kind == "wall":  # painted plaster: a flat colour with soft large-scale and fine texture
        # off-whites, beiges, creams, peaches, tans: skin-like hues on purpose
        paint = paint_colour(rng, (55, 94), (-2, 12), (4, 28)) if rng.random() < 0.5 else c0
        img = np.ones((size, size, 3), np.float32) * paint
        img *= 1 + 0.06 * smooth_noise(rng, size, size, rng.uniform(20, 60), 2)[..., None]
        grain = rng.standard_normal((size, size), dtype=np.float32)
        grain = cv2.GaussianBlur(grain, (0, 0), rng.uniform(0.7, 3))
        grain *= rng.uniform(0.0, 0.05) / max(float(grain.std()), 1e-6)  # plaster or roller texture
        img += (grain + rng.normal(0, rng.uniform(0.005, 0.03), (size, size)).astype(np.float32))[..., None]
    elif kind == "stripes":  # fabric, wood grain, blinds
        period = rng.uniform(3, 40)
        t = np.arange(size, dtype=np.float32)
        wave = 0.5 + 0.5 * np.sin(2 * np.pi * (t[None, :] + 6 * smooth_noise(rng, size, size, 30)) / period)
        img = c0 * wave[..., None] + c1 * (1 - wave[..., None])
    elif kind == "tiles":
        step = int(rng.integers(12, 80))
        img = np.ones((size, size, 3), np.float32) * c0
        img[::step] = c1
        img[:, ::step] = c1
    else:
        img = rng.uniform(0, 1, (size, size, 3)).astype(np.float32)
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 3))
    img = apply_photometric(rng, np.clip(img, 0, 1).astype(np.float32), closeup=bool(rng.random() < 0.5))
    image = jpeg_roundtrip(rng, quantise(img))
    return image, np.zeros((size, size), np.uint8)
