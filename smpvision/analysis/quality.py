"""Is this photo good enough to judge from? Blur, exposure, how much scalp, model confidence.

Warnings let the analysis go on with a caveat; a refusal (no scalp at all, nothing visible) stops it with
the reason, because every figure after it would be made up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..contracts import ZONE_IDS
from ..synth.color import rgb_to_lab

# Thresholds, each with the reason it sits where it does
BLUR_MIN = (
    12.0  # variance of the Laplacian at 512 px: sharp scalp texture scores 50–500, a defocused photo < 10
)
DARK_MAX_L = 22.0  # mean luminance (0–255 grey) below which skin colour is noise
BRIGHT_MIN_L = 235.0
CLIPPED_MAX = 0.25  # share of pixels at 0 or 255: colour is lost there
SCALP_REFUSE = 0.03  # share of the frame: below this there is no scalp to assess
SCALP_WARN = 0.12
CONFIDENCE_WARN = 0.6  # mean winning-class probability over the scalp
# A plain surface (a wall, a sheet) fills the frame and the model, which has no notion of "not a scalp"
# at this scale, calls it bald scalp. What gives it away: no head outline and (from the density head)
# almost no hairs. Measured with model v2.1 (README): 20 of the 30 walls of benchmarks/walls.py are like
# that (coarse-relief plaster looks like hair to the model and passes), and 3 of 1 756 real photos, all
# whole-head photos that view detection took for close-ups (none since its background bands of
# 2026-12-07, benchmarks/real_gate.py). A fully bald close-up is like that too, so the
# frame must also not be skin-coloured to be refused; a skin-coloured one gets a warning.
PLAIN_SCALP_SHARE = 0.85  # model's scalp share of the frame above which there is no head outline
PLAIN_MAX_HAIRS = 2.0  # hairs counted in the whole frame
NEUTRAL_CHROMA = 6.0  # CIELAB chroma of the frame's median colour: greys and whites; skin is ≥ ~10
SKIN_HUE_DEG = (-10.0, 100.0)  # hue angle of skin (reds to yellows); saturated colours outside are not skin
# Painted blues and greens exceed this. Real trichoscopy frames' blue cast reaches chroma ~20 (their median
# colour); they are safe only because they show hairs, so a hairless blue-cast close-up may be refused.
SATURATED_CHROMA = 12.0
# No scalp carries more than about 300–350 hairs/cm² (the rendered clients: 130–240). The density head is
# unbounded, and on a few rendered close-ups (2 of 102 held-out ones assessed at their true scale, model
# v2.1: dark skin under grey stubble, a mat of long crossing shafts) it spreads density over the whole
# field: about 104 000 and 3 600 hairs/cm² in the hair zone. A
# reading this far above any scalp is not a measurement. The bar is well above what the model reads on the
# 329 real trichoscopy frames at their estimated scale (at most 570/cm²), so only a broken reading trips it.
MAX_HAIRS_PER_CM2 = 1000.0


@dataclass
class Quality:
    ok: bool
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def check_quality(
    image: np.ndarray, zones: np.ndarray, confidence: np.ndarray, hairs: float | None = None
) -> Quality:
    """image: uint8 RGB; zones: class ids; confidence: winning-class probability per pixel; hairs: the
    density head's count over the frame (None: unknown, no plain-surface check)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    scale = 512 / max(grey.shape)
    if scale < 1:  # blur is judged at a fixed size so that big photos are not called sharp for their size
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_32F).var())
    mean_l = float(grey.mean())
    clipped = float(((grey <= 2) | (grey >= 253)).mean())
    scalp = zones != ZONE_IDS["background"]
    scalp_share = float(scalp.mean())
    conf = float(confidence[scalp].mean()) if scalp.any() else 0.0
    q = Quality(
        ok=True,
        metrics={
            "sharpness": round(sharpness, 1),
            "mean_luminance": round(mean_l, 1),
            "clipped_share": round(clipped, 3),
            "scalp_share": round(scalp_share, 3),
            "model_confidence": round(conf, 3),
        },
    )
    plain = hairs is not None and _is_plain_surface(scalp_share, hairs)
    if scalp_share < SCALP_REFUSE:
        q.refusal = (
            "no scalp found in this photo; photograph the scalp (top, front, crown, back or a close-up) "
            "so that it fills most of the frame"
        )
    elif plain and not _skin_coloured(image):
        q.refusal = (
            "no scalp found: the photo shows a plain surface with no hair and no head outline, in a colour "
            "skin does not have (a wall or a sheet?); photograph the scalp so that it fills most of the frame"
        )
    elif mean_l < DARK_MAX_L or mean_l > BRIGHT_MIN_L:
        q.refusal = "photo is too dark or too bright to judge; retake it in even, indirect light"
    if plain and q.refusal is None:
        q.warnings.append(
            "no hair and no head outline found: if this is not a bare scalp (a wall, a sheet of paper), the "
            "figures mean nothing; retake it showing the scalp"
        )
    if sharpness < BLUR_MIN:
        q.warnings.append("photo is blurred: hair density and scar edges are uncertain; retake it in focus")
    if clipped > CLIPPED_MAX:
        q.warnings.append("large parts of the photo are over- or under-exposed; colours there are unreliable")
    if SCALP_REFUSE <= scalp_share < SCALP_WARN:
        q.warnings.append("little scalp is visible; move closer so the scalp fills the frame")
    if scalp.any() and conf < CONFIDENCE_WARN:
        q.warnings.append("the model is unsure about the zones in this photo; check the overlay by eye")
    q.ok = q.refusal is None and not q.warnings
    return q


def implausible_density(per_cm2: dict[str, float | None] | None) -> str | None:
    """A warning when some zone reads more hairs/cm² than any scalp has (None: plausible or no scale).
    The caller then drops the per-cm² figures, so that neither the report nor the plan builds on them."""
    worst = max(((v, z) for z, v in (per_cm2 or {}).items() if v is not None), default=None)
    if worst is None or worst[0] <= MAX_HAIRS_PER_CM2:
        return None
    return (
        f"the hair count cannot be right ({worst[0]:,.0f} hairs/cm² in the {worst[1]} zone; no scalp has "
        f"more than about 350), so hairs/cm² are left out and only density relative to the client's own "
        f"hair is given; check the scale, or retake the photo"
    )


def _is_plain_surface(scalp_share: float, hairs: float) -> bool:
    return scalp_share > PLAIN_SCALP_SHARE and hairs < PLAIN_MAX_HAIRS


def _skin_coloured(image: np.ndarray) -> bool:
    """Is the frame's median colour one that skin (under any plausible light) can have?"""
    step = max(1, max(image.shape[:2]) // 256)  # a median needs no more than ~65 k pixels
    median = np.median(image[::step, ::step].reshape(-1, 3), axis=0) / 255.0
    _, a, b = (float(v) for v in rgb_to_lab(median))
    chroma, hue = float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)))
    if chroma < NEUTRAL_CHROMA:
        return False
    return chroma <= SATURATED_CHROMA or SKIN_HUE_DEG[0] <= hue <= SKIN_HUE_DEG[1]
