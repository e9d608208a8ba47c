"""Skin and hair colours: sampled in CIELAB so labels carry the exact truth (Lab, ITA°, Fitzpatrick).

Per-pixel Lab conversion is slow (~10 ms at 384²), so colours are converted once per sample and the
renderer shades in RGB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# ITA° bands from DESIGN.md: > 55 very light (I), 41–55 light (II), 28–41 intermediate (III),
# 10–28 tan (IV), −30–10 brown (V), < −30 dark (VI).
ITA_BANDS: tuple[tuple[float, float, int], ...] = (
    (55.0, 90.0, 1),
    (41.0, 55.0, 2),
    (28.0, 41.0, 3),
    (10.0, 28.0, 4),
    (-30.0, 10.0, 5),
    (-90.0, -30.0, 6),
)
# Skin is sampled as (type, ITA°, b*) and L* follows: L* = 50 + b*·tan(ITA°). b* (yellowness) of real skin
# stays within about 10–24 for every type (colorimeter surveys, e.g. Del Bino et al. 2006: group means
# 13–19, spread ±3–4); an earlier sampler drew L* and ITA° independently, which gave greyish skin with
# b* 5–8 that no population shows (and on which ITA° swings ~6° per unit of L*). _L_RANGE keeps L* where
# each type's skin is found.
_L_RANGE = {1: (66, 82), 2: (59, 74), 3: (54, 68), 4: (51, 63), 5: (36, 55), 6: (20, 42)}
_B_RANGE = {1: (9, 18), 2: (11, 21), 3: (12, 23), 4: (13, 24), 5: (12, 24), 6: (8, 22)}
_ITA_SAMPLE = {1: (56, 72), 2: (42, 54), 3: (29, 40), 4: (11, 27), 5: (-29, 9), 6: (-60, -31)}


def ita_deg(lab: np.ndarray | list[float]) -> float:
    """Individual Typology Angle, atan((L* − 50) / b*) in degrees."""
    L, _, b = (float(v) for v in lab)
    return math.degrees(math.atan2(L - 50.0, b))


def fitzpatrick_from_ita(ita: float) -> int:
    for low, _high, skin_type in ITA_BANDS:
        if ita > low:
            return skin_type
    return 6


# CIE 1976 L*a*b* with the D65 white point, and the sRGB primaries (IEC 61966-2-1).
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883], np.float32)
_XYZ_TO_RGB = np.array(
    [
        [3.2404542, -1.5371385, -0.4985314],
        [-0.9692660, 1.8760108, 0.0415560],
        [0.0556434, -0.2040259, 1.0572252],
    ],
    np.float32,
)
_RGB_TO_XYZ = np.linalg.inv(_XYZ_TO_RGB).astype(np.float32)
_EPS = 6.0 / 29.0


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) → sRGB in 0..1, any leading shape. In numpy: OpenCV's float Lab conversion costs
    milliseconds per call even for one colour, and the renderer converts a few colours per sample."""
    lab = np.asarray(lab, np.float32)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], -1)
    xyz = np.where(f > _EPS, f**3, 3 * _EPS**2 * (f - 4.0 / 29.0)) * _WHITE_D65
    lin = xyz @ _XYZ_TO_RGB.T
    lin = np.clip(lin, 0.0, 1.0)
    rgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..1 → CIELAB (D65), any leading shape."""
    rgb = np.clip(np.asarray(rgb, np.float32), 0.0, 1.0)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    t = (lin @ _RGB_TO_XYZ.T) / _WHITE_D65
    f = np.where(t > _EPS**3, np.cbrt(t), t / (3 * _EPS**2) + 4.0 / 29.0)
    L = 116.0 * f[..., 1] - 16.0
    return np.stack([L, 500.0 * (f[..., 0] - f[..., 1]), 200.0 * (f[..., 1] - f[..., 2])], -1).astype(
        np.float32
    )


@dataclass(frozen=True)
class SkinTone:
    lab: tuple[float, float, float]
    ita_deg: float
    fitzpatrick: int

    def to_label(self) -> dict:
        return {
            "lab": [round(v, 2) for v in self.lab],
            "ita_deg": round(self.ita_deg, 2),
            "fitzpatrick": self.fitzpatrick,
        }


def sample_skin(rng: np.random.Generator) -> SkinTone:
    """A bare-scalp colour; Fitzpatrick types equally likely so every type is well represented."""
    skin_type = int(rng.integers(1, 7))
    while True:
        ita = rng.uniform(*_ITA_SAMPLE[skin_type])
        b = rng.uniform(*_B_RANGE[skin_type])
        L = 50.0 + b * math.tan(math.radians(ita))
        if _L_RANGE[skin_type][0] <= L <= _L_RANGE[skin_type][1]:
            break
    a = rng.uniform(5.0, 15.0)
    lab = (float(L), float(a), float(b))
    ita_exact = ita_deg(lab)
    return SkinTone(lab, ita_exact, fitzpatrick_from_ita(ita_exact))


# Hair colour names → base Lab of a pigmented shaft. Grey/white hairs are unpigmented shafts mixed in.
HAIR_BASES: dict[str, tuple[float, float, float]] = {
    "black": (14.0, 1.0, 1.5),
    "dark_brown": (22.0, 3.5, 7.0),
    "brown": (31.0, 6.5, 13.0),
    "light_brown": (43.0, 7.5, 18.0),
    "blond": (62.0, 4.5, 24.0),
    "red": (38.0, 20.0, 26.0),
}
WHITE_SHAFT_LAB = (84.0, -0.5, 4.0)
# name → (weight, grey fraction range, which pigmented bases it mixes with)
_HAIR_NAMES: dict[str, tuple[float, tuple[float, float]]] = {
    "black": (0.22, (0.0, 0.03)),
    "dark_brown": (0.2, (0.0, 0.05)),
    "brown": (0.14, (0.0, 0.05)),
    "light_brown": (0.08, (0.0, 0.05)),
    "blond": (0.07, (0.0, 0.03)),
    "red": (0.05, (0.0, 0.03)),
    "salt_and_pepper": (0.11, (0.25, 0.55)),
    "grey": (0.09, (0.6, 0.88)),
    "white": (0.04, (0.92, 1.0)),
}


@dataclass(frozen=True)
class HairColour:
    name: str
    base_lab: tuple[float, float, float]
    grey_fraction: float

    @property
    def mean_lab(self) -> tuple[float, float, float]:
        g = self.grey_fraction
        return tuple(float((1 - g) * b + g * w) for b, w in zip(self.base_lab, WHITE_SHAFT_LAB, strict=True))

    def to_label(self) -> dict:
        return {
            "lab": [round(v, 2) for v in self.mean_lab],
            "name": self.name,
            "grey_fraction": round(self.grey_fraction, 3),
        }

    def strand_rgb(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Per-strand sRGB (n, 3): pigmented shafts with natural spread, white shafts at grey_fraction.

        Two Lab conversions, then brightness/warmth jitter in RGB (cheap for tens of thousands)."""
        base, white = lab_to_rgb(np.array([self.base_lab, WHITE_SHAFT_LAB], np.float32))
        is_white = (rng.random(n) < self.grey_fraction)[:, None]
        rgb = np.where(is_white, white, base).astype(np.float32)
        gain = 1.0 + 0.12 * rng.standard_normal((n, 1), dtype=np.float32)
        warm = 0.02 * rng.standard_normal((n, 1), dtype=np.float32) * np.float32([1.0, 0.0, -1.0])
        return np.clip(rgb * gain + warm, 0.0, 1.0)


def sample_hair(rng: np.random.Generator) -> HairColour:
    names = list(_HAIR_NAMES)
    weights = np.array([_HAIR_NAMES[n][0] for n in names])
    name = names[int(rng.choice(len(names), p=weights / weights.sum()))]
    grey = float(rng.uniform(*_HAIR_NAMES[name][1]))
    if name in HAIR_BASES:
        base = HAIR_BASES[name]
    else:  # greying hair keeps a dark or brown pigmented part
        base = HAIR_BASES[str(rng.choice(["black", "dark_brown", "brown"]))]
    jitter = rng.normal(0, 1.5, 3)
    base_lab = tuple(float(v + j) for v, j in zip(base, jitter, strict=True))
    return HairColour(name, base_lab, grey)
