"""Skin tone (CIELAB, ITA°, Fitzpatrick) of the bare scalp and the colour of the hair already there.

Both come from a zone map (the model's prediction in production, so imperfect) and, when the calibration
card is in the photo, its grey patch.

What a pixel's colour is made of: the surface colour × the light falling on it (shading: a head is round,
so one side is darker) × the camera's exposure and white balance, plus specular shine (bright, colourless),
plus hair in front of it. The reported colour is the surface under full light, as a colorimeter held
against the skin would read it:
- hair, shine, clipped pixels and scars are excluded; shadows are handled by reading the upper part of the
  brightness distribution of what remains (full light is the brightest diffuse light a surface gets);
- exposure and white balance are measured on the grey patch when there is one. Without it they are
  assumed neutral (the camera's auto exposure and auto white balance are trusted): they cannot be told
  apart from the skin's own lightness and warmth, so confidence is lower. The rendered benchmark
  (benchmarks/skin_tone.py) shows what that costs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from ..synth.color import (
    HAIR_BASES,
    WHITE_SHAFT_LAB,
    fitzpatrick_from_ita,
    ita_deg,
    lab_to_rgb,
    rgb_to_lab,
)
from .calibration import GREY_PATCH_LAB, Marker

HAIR, THINNING, BALD, SCAR = 1, 2, 3, 4
MIN_SKIN_PX = 150  # fewer clean pixels than this: no estimate
MIN_SHADED_SKIN_SHARE = 0.02  # overviews: clean bald-scalp pixels as a share of the frame, at least
# Colour is read at most this large: the estimators were measured on 384-px renders (benchmarks/skin_tone.py),
# and their shaft-removing morphology costs grow with side³ (at 2048 px one photo took seconds).
WORKING_SIDE = 384
CLIP = 0.985  # a channel this bright is probably clipped: its colour is not the surface's
# what skin can be in CIELAB (wide: every Fitzpatrick type, any plausible error); outside it, no answer
SKIN_L, SKIN_A_MIN, SKIN_B_MIN = (15.0, 92.0), 0.0, 2.0
__all__ = ["SkinTone", "HairTone", "skin_tone", "hair_colour", "grey_patch_gains"]


@dataclass
class SkinTone:
    lab: tuple[float, float, float]
    ita_deg: float
    fitzpatrick: int
    hex: str
    confidence: float  # 0..1
    white_balance: str  # "grey_patch" | "estimated"
    pixels: int
    source: str = "bald"  # the zones the skin was read from: "bald", "thinning" or "hair" (between hairs)

    def to_dict(self) -> dict:
        return _rounded(asdict(self))


@dataclass
class HairTone:
    lab: tuple[float, float, float]
    hex: str
    name: str
    grey_fraction: float
    pixels: int

    def to_dict(self) -> dict:
        return _rounded(asdict(self))


def _rounded(d: dict) -> dict:
    """JSON-ready: Lab to 2 decimals, other floats to 3."""
    out = {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}
    out["lab"] = [round(float(v), 2) for v in d["lab"]]
    return out


def _linear(srgb: np.ndarray) -> np.ndarray:
    srgb = np.asarray(srgb, np.float32)
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _encode(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(np.asarray(lin, np.float32), 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1 / 2.4) - 0.055).astype(np.float32)


def grey_patch_gains(marker: Marker | None) -> np.ndarray | None:
    """Per-channel linear-RGB gains that bring the measured grey patch to its printed truth, or None
    when there is no usable patch (missing, clipped or black)."""
    if marker is None or marker.grey_rgb is None:
        return None
    measured = np.asarray(marker.grey_rgb, np.float32) / 255.0
    if measured.max() >= CLIP or measured.min() < 0.02:
        return None
    return _linear(lab_to_rgb(np.float32(GREY_PATCH_LAB))) / _linear(measured)


def _working(image: np.ndarray, zones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image and zone map at most WORKING_SIDE on the long side (area-averaged colour, nearest zones)."""
    zones = np.asarray(zones)
    if zones.shape != np.asarray(image).shape[:2]:
        raise ValueError(
            f"zones {zones.shape} and image {image.shape[:2]} differ in size; resize the zone map"
        )
    h, w = zones.shape
    f = WORKING_SIDE / max(h, w)
    if f >= 1.0:
        return image, zones
    size = (max(1, round(w * f)), max(1, round(h * f)))
    small = cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_AREA)
    return small, cv2.resize(zones.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)


def _cmax(a: np.ndarray) -> np.ndarray:
    """Largest of the 3 channels. numpy reduces a length-3 last axis ~10x slower than two maximums; at
    one photo per 0.1 s the difference shows."""
    return np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])


def _cmin(a: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(a[..., 0], a[..., 1]), a[..., 2])


def _as_float(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {img.shape}")
    img = img[..., :3]
    return img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)


def _hex(lab: np.ndarray) -> str:
    rgb = np.round(lab_to_rgb(np.float32(lab)) * 255).astype(int)
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _odd(v: float) -> int:
    return max(3, int(v) // 2 * 2 + 1)


def _erode(mask: np.ndarray, px: int) -> np.ndarray:
    if px <= 0:
        return mask
    return cv2.erode(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


def _strand_free(img: np.ndarray) -> np.ndarray:
    """The image with thin dark and thin bright lines (hair shafts) removed: a morphological closing then
    opening, per channel, wider than a shaft. A pixel far from it is hair in front of skin."""
    k = _odd(min(img.shape[:2]) / 20)  # trichoscope shafts reach ~11 px at 384 px
    se = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.morphologyEx(cv2.morphologyEx(img, cv2.MORPH_CLOSE, se), cv2.MORPH_OPEN, se)


_ALL_SKIN_SETS = ((BALD,), (BALD, THINNING), (BALD, THINNING, HAIR))


def _skin_candidates(
    img: np.ndarray, zones: np.ndarray, zone_sets: tuple[tuple[int, ...], ...] = _ALL_SKIN_SETS
) -> tuple[np.ndarray, int]:
    """Clean bare-skin pixels: bald first, then thinning, then skin between hairs (the first of zone_sets
    with enough clean pixels wins); hair strands, shine and clipped pixels removed."""
    rel = img.mean(-1) / np.maximum(_strand_free(img).mean(-1), 1e-4)
    not_hair = (rel > 0.88) & (rel < 1.12)
    unclipped = _cmax(img) < CLIP
    margin = max(1, min(zones.shape) // 128)  # zone borders are where predicted zones are least sure
    chosen = np.zeros(zones.shape, bool)
    for zone_set in zone_sets:
        area = _erode(np.isin(zones, zone_set), margin)
        chosen = area & not_hair & unclipped
        if chosen.sum() >= 4 * MIN_SKIN_PX:
            break
    if chosen.sum() < MIN_SKIN_PX:
        return chosen, zone_set[-1]
    return chosen & ~_shine(img, chosen), zone_set[-1]


def _shine(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Specular shine adds colourless light: bright pixels whose chroma has dropped well below the skin's
    typical chroma."""
    px = img[mask]
    lum = px.mean(-1)
    chroma = _cmax(px) - _cmin(px)
    sat = chroma / np.maximum(_cmax(px), 1e-4)
    typical = float(np.median(sat))
    shiny = (sat < 0.8 * typical) & (lum > np.median(lum))
    out = np.zeros(mask.shape, bool)
    out[mask] = shiny
    return out


def _full_light_rgb(px: np.ndarray, shaded: bool) -> tuple[np.ndarray, float]:
    """Colour of the surface under full light from clean skin pixels (n, 3 linear RGB), and the spread.

    Each pixel is split into body colour × brightness plus colourless shine (the dichromatic reflection
    model): p = D·u + s·(1, 1, 1)/√3, with u the skin's colour direction read off the most saturated
    (least shiny) half. Shine is then gone from D whatever its strength, which matters on dark skin where
    a little shine is a large share of the light.

    Overviews (shaded): a head is lit from one side, so most bare scalp gets less than full light; the
    brightest diffuse light it gets is read as a high percentile band of D (not the maximum: noise and
    mottling sit there). Close-ups (flat, evenly lit field): a middle band."""
    norm = np.linalg.norm(px, axis=1)
    ok = norm > 1e-4
    px, norm = px[ok], norm[ok]
    sat = (_cmax(px) - _cmin(px)) / np.maximum(_cmax(px), 1e-6)
    body = px[sat >= np.median(sat)] / norm[sat >= np.median(sat), None]
    u = np.median(body, axis=0)
    u /= max(float(np.linalg.norm(u)), 1e-6)
    basis = np.stack([u, np.full(3, 1 / np.sqrt(3), np.float32)], 1)  # (3, 2)
    coef = px @ np.linalg.pinv(basis).T  # (n, 2): D, s
    d = coef[:, 0]
    lo, hi = SHADED_BAND if shaded else FLAT_BAND
    a, b = np.percentile(d, [lo, hi])
    band = d[(d >= a) & (d <= b)]
    level = float(np.median(band)) if len(band) >= 10 else float(np.median(d))
    spread = float(np.std(np.log(np.maximum(d, 1e-4) / max(level, 1e-4))))
    return np.clip(level * u, 0.0, 1.0), spread


SHADED_BAND = (90.0, 99.0)
FLAT_BAND = (70.0, 95.0)


def _is_shaded(zones: np.ndarray, view: str | None) -> bool:
    if view is not None:
        return view == "overview"
    return float((zones == 0).mean()) > 0.1  # an overview shows face, clothes or backdrop


def skin_tone(
    image: np.ndarray, zones: np.ndarray, marker: Marker | None = None, view: str | None = None
) -> SkinTone | None:
    """Bare-scalp skin tone, or None when too little bare scalp is visible.

    view: "overview" | "closeup" (how light falls: a round head vs a flat, evenly lit field); None
    guesses from the zone map (an overview shows background)."""
    image, zones = _working(image, zones)
    img = _as_float(image)
    # light noise and JPEG blocks average out before any per-pixel decision
    img = cv2.GaussianBlur(img, (0, 0), max(0.8, min(zones.shape) / 400))
    shaded = _is_shaded(zones, view)
    # In an overview only bald scalp can be read, and only enough of it: skin between hairs is not
    # resolved (every pixel of a hair-bearing zone is part hair or stubble shadow and reads far too dark:
    # median ITA error ~50°), thinning is stubble-shaded too, and a small bald patch is seldom the part
    # of the head that faces the light. Measured on 100 held-out heads (renderer v3, camera stage off):
    # every bald/thinning estimate, median ITA error 9.4° (75 estimates); bald ≥ 2 % of the frame, 4.7°
    # (28). Better no answer (another view supplies it) than a wrong one.
    mask, source_zone = _skin_candidates(img, zones, ((BALD,),) if shaded else _ALL_SKIN_SETS)
    n = int(mask.sum())
    if n < MIN_SKIN_PX or (shaded and n < MIN_SHADED_SKIN_SHARE * zones.size):
        return None
    gains = grey_patch_gains(marker)
    px = _linear(img[mask])
    if gains is not None:
        px = px * gains
    lin, spread = _full_light_rgb(px, shaded)
    lab = rgb_to_lab(_encode(lin))
    if not (SKIN_L[0] <= lab[0] <= SKIN_L[1] and lab[1] >= SKIN_A_MIN and lab[2] >= SKIN_B_MIN):
        return None  # no skin is this colour: a dermoscope's cast, an uncorrected colour cast, wrong zones
    ita = ita_deg(lab)
    # confidence: a calibrated reference matters most; then how much bare scalp there is (a small patch
    # is less likely to face the light: measured, the error halves from <2 % to >25 % of the frame); then
    # bald over thinning (stubble shadow) and an even skin
    area = min(1.0, n / (0.25 * zones.size)) ** 0.5
    conf = (0.9 if gains is not None else 0.45) * (0.4 + 0.6 * area) * float(np.exp(-spread))
    conf *= 1.0 if source_zone == BALD else 0.8
    return SkinTone(
        lab=tuple(round(float(v), 3) for v in lab),
        ita_deg=float(ita),
        fitzpatrick=fitzpatrick_from_ita(ita),
        hex=_hex(lab),
        confidence=float(np.clip(conf, 0.0, 1.0)),
        white_balance="grey_patch" if gains is not None else "estimated",
        pixels=n,
        source={BALD: "bald", THINNING: "thinning", HAIR: "hair"}[source_zone],
    )


def hair_colour(
    image: np.ndarray, zones: np.ndarray, marker: Marker | None = None, view: str | None = None
) -> HairTone | None:
    """Colour of the hair already there (as the label defines it: the CIELAB mix of pigmented and
    white shafts by their share), its name and grey fraction; None when no hair can be read.

    Close-ups: shafts are resolved and read against the skin around them (_resolved_hair). Overviews,
    and close-ups where hair covers the field: the zone's own colour is the hair's (_covered_hair)."""
    image, zones = _working(image, zones)
    img = _as_float(image)
    margin = max(1, min(zones.shape) // 128)
    unclipped = _cmax(img) < CLIP
    area = np.zeros(zones.shape, bool)
    for zone_set in ((HAIR,), (HAIR, THINNING)):
        area = _erode(np.isin(zones, zone_set), margin) & unclipped
        if area.sum() >= MIN_SKIN_PX:
            break
    if area.sum() < MIN_SKIN_PX:
        return None
    gains = grey_patch_gains(marker)
    lin = _linear(img) * (1.0 if gains is None else gains)
    shaded = _is_shaded(zones, view)
    if shaded:  # overview pixels hold several strands and skin at once: single shafts are not resolved
        lab, name, grey, n = _covered_hair(lin[area], shaded)
    else:
        skin = skin_tone(image, zones, marker, view)
        found = _resolved_hair(lin, area, skin)
        if found is None:
            # no shaft resolved: long hair covering the field, or stubble lost under its halo (then the
            # zone is just skin and there is nothing to read)
            if _looks_like_skin(np.median(lin[area], axis=0), skin):
                return None
            found = _covered_hair(lin[area], shaded)
        lab, name, grey, n = found
    return HairTone(
        lab=tuple(round(float(v), 3) for v in lab),
        hex=_hex(lab),
        name=name,
        grey_fraction=float(np.clip(grey, 0.0, 1.0)),
        pixels=n,
    )


def _covered_hair(px: np.ndarray, shaded: bool) -> tuple[np.ndarray, str, float, int]:
    """Hair covering the zone: its colour from a band of the zone's brightness (the middle in overviews,
    where the top is skin between hairs and shine; see HAIR_SHADED_BAND); white shafts are mixed into the
    pixels, so the grey share follows from lightness."""
    lum = px.mean(-1)
    lo, hi = HAIR_SHADED_BAND if shaded else HAIR_FLAT_BAND
    a, b = np.percentile(lum, [lo, hi])
    lab = rgb_to_lab(_encode(np.median(px[(lum >= a) & (lum <= b)], axis=0)))
    name = _nearest(lab, pigmented=False)
    grey = _grey_from_lightness(float(lab[0])) if name in _GREY_NAMES else 0.0
    return lab, name, grey, len(px)


def _resolved_hair(lin: np.ndarray, area: np.ndarray, skin: SkinTone | None):
    """Single shafts over skin (close-ups): each strand pixel as a ratio to the skin right around it (a
    median filter wider than a shaft) is free of shading and of the camera; × the skin's full-light
    colour it is the shaft's. Dark strands are pigmented shafts, colourless bright ones white shafts."""
    bg = _linear(_strand_free(_encode(lin)))  # the skin around each pixel
    ratio = lin / np.maximum(bg, 1e-4)
    r_lum = lin.mean(-1) / np.maximum(bg.mean(-1), 1e-4)
    dark = _thin(area & (r_lum < STRAND_DARK))
    # a bright line right beside a dark shaft is its highlight or the halo at its root, not a white hair;
    # flakes, halos and glints are blobs, not lines
    near_dark = cv2.dilate(dark.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    bright = _thin(area & (r_lum > STRAND_BRIGHT) & ~near_dark, min_px=8)
    n_dark, n_bright = int(dark.sum()), int(bright.sum())
    if n_dark + n_bright < MIN_SKIN_PX // 3:
        return None
    skin_lin = _linear(lab_to_rgb(np.float32(skin.lab))) if skin else np.median(bg[area], axis=0)
    dark_lab = _strand_lab(ratio, r_lum, dark, skin_lin, darkest=True)
    bright_lab = _strand_lab(ratio, r_lum, bright, skin_lin, darkest=False)
    if bright_lab is not None and np.hypot(*bright_lab[1:]) < WHITE_CHROMA:  # blond is bright too
        grey = n_bright / (n_dark + n_bright)
        lab = bright_lab if dark_lab is None else (1 - grey) * dark_lab + grey * bright_lab
        name = _grey_name(grey) or _nearest(dark_lab if dark_lab is not None else lab, pigmented=True)
        return lab, name, grey, n_dark + n_bright
    lab = dark_lab if bright_lab is None or (dark_lab is not None and n_dark >= n_bright) else bright_lab
    return lab, _nearest(lab, pigmented=True), 0.0, n_dark + n_bright


def _thin(mask: np.ndarray, min_px: int = 4, min_ratio: float = 3.0) -> np.ndarray:
    """Keep the connected parts of mask that are made of lines (hair shafts, crossing or not): their
    length (from the spread of their pixels) at least min_ratio times their thickness (twice the
    largest distance to their edge). Blobs (halos, flakes, glints) go."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n <= 1:
        return mask
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    cnt = np.bincount(lab, minlength=n).astype(np.float64)
    safe = np.maximum(cnt, 1)
    mx, my = np.bincount(lab, xs, n) / safe, np.bincount(lab, ys, n) / safe
    dx, dy = xs - mx[lab], ys - my[lab]
    sxx, syy = np.bincount(lab, dx * dx, n) / safe, np.bincount(lab, dy * dy, n) / safe
    sxy = np.bincount(lab, dx * dy, n) / safe
    half_tr = (sxx + syy) / 2
    major = half_tr + np.sqrt(np.maximum(half_tr**2 - (sxx * syy - sxy**2), 0))
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    thick = np.zeros(n)
    np.maximum.at(thick, lab, dist[ys, xs])
    keep = (cnt >= min_px) & (np.sqrt(12 * major) >= min_ratio * 2 * thick)
    keep[0] = False
    return keep[labels]


def _looks_like_skin(rgb_lin: np.ndarray, skin: SkinTone | None) -> bool:
    if skin is None:
        return False
    ref = _linear(lab_to_rgb(np.float32(skin.lab)))
    cos = float(rgb_lin @ ref) / max(float(np.linalg.norm(rgb_lin) * np.linalg.norm(ref)), 1e-9)
    return cos > np.cos(np.radians(4.0)) and abs(np.log(max(rgb_lin.sum(), 1e-6) / ref.sum())) < 0.4


def _strand_lab(ratio, r_lum, sel, skin_lin, darkest: bool) -> np.ndarray | None:
    """Lab of the strands in sel: their cores (the darkest or brightest part, edges are part skin), as a
    ratio to the skin around them × the skin's full-light colour."""
    if sel.sum() < 5:
        return None
    v = r_lum[sel]
    core = v <= np.percentile(v, 15) if darkest else v >= np.percentile(v, 85)
    return rgb_to_lab(_encode(np.median(ratio[sel][core], axis=0) * skin_lin))


STRAND_DARK, STRAND_BRIGHT = 0.7, 1.35
WHITE_CHROMA = 11.0  # linear-light ratio to the local background
# Overviews: the middle of the hair zone's brightness, not its top. The brightest pixels of a hair zone are
# mostly skin between short hairs, forehead the model took for hair, and shine, and read too light (dark
# brown named blond, white or salt-and-pepper). Picked on 240 rendered tuning overviews (calibration
# seeds): within one shade 0.59 → 0.65 with label zones, 0.44 → 0.57 with model v2.1's, flat from 30–60 to
# 40–60. On benchmarks/skin_tone.py's 150 held-out overviews (384 px): 0.69 → 0.73 and 0.57 → 0.60.
HAIR_SHADED_BAND = (40.0, 60.0)
HAIR_FLAT_BAND = (40.0, 60.0)
_GREY_NAMES = ("salt_and_pepper", "grey", "white")
_GREY_BASE_L = float(np.mean([HAIR_BASES[n][0] for n in ("black", "dark_brown", "brown")]))


def _grey_name(grey: float) -> str | None:
    """The renderer's and the trade's grey names by share of white shafts (boundaries between ranges)."""
    if grey >= 0.9:
        return "white"
    if grey >= 0.575:
        return "grey"
    if grey >= 0.15:
        return "salt_and_pepper"
    return None


def _grey_from_lightness(lightness: float) -> float:
    return (lightness - _GREY_BASE_L) / (WHITE_SHAFT_LAB[0] - _GREY_BASE_L)


def _prototypes(pigmented: bool) -> dict[str, np.ndarray]:
    protos = {n: np.float32(v) for n, v in HAIR_BASES.items()}
    if not pigmented:
        base = np.mean([HAIR_BASES[n] for n in ("black", "dark_brown", "brown")], axis=0)
        for name, g in zip(_GREY_NAMES, (0.4, 0.74, 0.96), strict=True):
            protos[name] = np.float32((1 - g) * base + g * np.asarray(WHITE_SHAFT_LAB))
    return protos


def _nearest(lab: np.ndarray, pigmented: bool) -> str:
    protos = _prototypes(pigmented)
    w = np.float32([0.6, 1.0, 1.0])  # lightness is what exposure and shading disturb most
    return min(protos, key=lambda n: float(np.sum((w * (np.asarray(lab) - protos[n])) ** 2)))
