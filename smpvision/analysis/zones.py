"""Zone shares, areas and hair density per zone from a segmentation.

Scalp = every non-background pixel. Shares are of the scalp; areas and hairs/cm² need a scale (mm per
pixel of the analysed image). Without one, density is reported relative to the client's own hair-bearing
zone, which needs no scale at all (DESIGN.md).

Close-ups: a 4 mm dermoscope field cannot show whether the scalp around it is "thinning" (that is a
density judged against the whole head), so a model whose metadata says `closeup_zones: ignore` was not
trained to draw hair/thinning/bald there. The runtime then judges the field as a whole from its measured
hairs/cm² against a reference density, with the same thresholds the renderer's labels use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..contracts import SCALP_ZONES, ZONE_IDS

# Thresholds on density relative to the client's own (renderer labels: smpvision/synth/patterns.py)
HAIR_MIN_RELATIVE = 0.55
BALD_MAX_RELATIVE = 0.12
# A typical client's hair-bearing scalp: ≈ 80 follicular units/cm² × ≈ 2.1 hairs (DESIGN.md)
REFERENCE_HAIRS_PER_CM2 = 170.0
_MIN_ZONE_PX = 25  # below this a zone's mean density is noise, reported as None


@dataclass
class ZoneStats:
    scalp_px: int
    fraction_of_scalp: dict[str, float]
    area_cm2: dict[str, float | None]
    hairs_estimated: float
    hairs_per_cm2: dict[str, float | None] | None  # None without a scale
    relative: dict[str, float | None]  # mean density / mean density of the hair zone
    closeup_judged: str | None = None  # close-ups: the zone the whole field was judged to be


def zone_stats(zones: np.ndarray, density: np.ndarray, mm_per_px: float | None) -> ZoneStats:
    """zones: uint8 [H, W] class ids; density: float32 [H, W] hairs per pixel of the same image."""
    if zones.shape != density.shape:
        raise ValueError(f"zones {zones.shape} and density {density.shape} must have the same shape")
    scalp = zones != ZONE_IDS["background"]
    scalp_px = int(scalp.sum())
    px_cm2 = (mm_per_px / 10.0) ** 2 if mm_per_px else None
    fraction, area, mean_density = {}, {}, {}
    for name in SCALP_ZONES:
        mask = zones == ZONE_IDS[name]
        n = int(mask.sum())
        fraction[name] = round(n / scalp_px, 5) if scalp_px else 0.0
        area[name] = round(n * px_cm2, 3) if px_cm2 is not None else None
        mean_density[name] = float(density[mask].mean()) if n >= _MIN_ZONE_PX else None
    hair_level = mean_density["hair"]
    relative = {
        name: (round(d / hair_level, 3) if d is not None and hair_level else None)
        for name, d in mean_density.items()
    }
    per_cm2 = None
    if px_cm2 is not None:
        per_cm2 = {
            name: (round(d / px_cm2, 1) if d is not None else None) for name, d in mean_density.items()
        }
    return ZoneStats(scalp_px, fraction, area, round(float(density[scalp].sum()), 1), per_cm2, relative)


def judge_closeup(
    zones: np.ndarray, density: np.ndarray, mm_per_px: float | None, reference_per_cm2: float | None = None
) -> np.ndarray:
    """Zone ids for a close-up from a model that leaves hair/thinning/bald to the runtime: the whole
    non-scar scalp field becomes one zone, judged from its hairs/cm² against `reference_per_cm2` (the
    client's own hair density when known, else a typical scalp's). Without a scale nothing can be judged
    and the field is reported as hair-bearing, the model's own guess being untrained there."""
    out = zones.copy()
    field = (zones != ZONE_IDS["background"]) & (zones != ZONE_IDS["scar"])
    if not field.any():
        return out
    name = "hair"
    if mm_per_px:
        per_cm2 = float(density[field].mean()) / (mm_per_px / 10.0) ** 2
        ratio = per_cm2 / (reference_per_cm2 or REFERENCE_HAIRS_PER_CM2)
        name = "hair" if ratio >= HAIR_MIN_RELATIVE else "bald" if ratio < BALD_MAX_RELATIVE else "thinning"
    out[field] = ZONE_IDS[name]
    return out
