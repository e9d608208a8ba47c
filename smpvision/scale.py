"""Image scale of a close-up from the hair shafts it shows.

Dermoscope and macro photos arrive at unknown magnification, but a terminal scalp hair shaft is 50–100 µm
wide whatever the camera. The shafts' width in pixels therefore gives mm per pixel to within the natural
spread of shaft diameters (about ±25 %), enough to turn a density map into hairs/cm².

Widths are read in scale space: the scale-normalised second derivative across a dark bar of width w peaks
at Gaussian σ = w/2 whatever its contrast or blur, so the σ that maximises a ridge filter at a shaft's
centre line measures its width. Two passes keep it cheap and sharp: a coarse pass on a small copy finds
roughly how wide the dark lines are; the fine pass resamples the image so shafts are a few pixels wide,
fills the specular highlight that runs along shiny shafts (it would otherwise split one shaft into two thin
dark edges), and measures again.

Runtime module: numpy + OpenCV only.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["TYPICAL_SHAFT_UM", "estimate_shaft_width_px", "estimate_mm_per_px"]

TYPICAL_SHAFT_UM = 70.0

_COARSE_SIDE = 256  # long side of the coarse pass: shafts of ≥ 2 % of the frame are still > 4 px there
_COARSE_SIGMAS = 0.8 * 2 ** (np.arange(9) / 2)  # widths 1.6–26 px at 256: up to 10 % of the frame
_FINE_TARGET_PX = 6.0  # the coarse width is resampled to this for the fine pass
_FINE_SIDE = (96, 640)  # clamp on the fine pass's long side (speed, and too few pixels below 96)
_FINE_SIGMAS = 1.0 * 2 ** (np.arange(12) / 3)  # widths 2–25 px: 1/3 to 4 × the coarse width
# 2σ* of a w-px bar reads ≈ √((G·w)² + B²): the 3-tap derivatives and the parabolic peak fit add ~3.6 px
# in quadrature (least squares on anti-aliased bars 3–10 px wide at random angles, drawn 2–5× larger and
# area-downsampled like the fine pass; tests/test_scale.py checks drawn lines of known width)
_BAR_GAIN = 0.96
_BAR_BLUR_SQ = 13.0
_MIN_CONTRAST = 6.0  # ridge strength floor, grey levels × ~0.5: skin texture and JPEG noise stay below
_MIN_ELONGATION = 3.0  # a shaft's centre line is at least this many of its widths long
_MIN_CENTRE_PX = 100  # centre-line samples at the fine pass (shafts ≈ 6 px wide there) before answering
_MIN_SHAFTS = 3
_CHAIN_CAP = 30  # most samples one centre line contributes to the median
_MIN_WIDTH_PX = 3.0  # narrower readings are mostly lens blur and JPEG
_K_XY2 = np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], np.float32) / 2  # 2·∂²/∂x∂y


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array (H, W, 3) uint8 RGB, not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(
            f"image dtype is {image.dtype}; need uint8 RGB — for 0..1 floats use "
            "np.clip(image * 255, 0, 255).round().astype(np.uint8)"
        )
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"image shape is {image.shape}; need (H, W, 3) RGB — grey: np.repeat(img[..., None], 3, axis=2), "
            "RGBA: img[..., :3]"
        )
    if min(image.shape[:2]) < 32:
        raise ValueError(f"image is {image.shape[1]}×{image.shape[0]} px; need at least 32×32 to see shafts")


def _resize(grey: np.ndarray, f: float) -> np.ndarray:
    """uint8 → float32 at f × the size (resampling 8-bit pixels is the cheaper order)."""
    h, w = grey.shape
    size = (max(1, round(w * f)), max(1, round(h * f)))
    out = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    return out.astype(np.float32)


def _ridge_strength(grey: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Scale-normalised dark-line strength σ²·(λ1 − |λ2|) − σ·|∇|/2, and the across-line angle.

    λ1 − |λ2| is large across a line and ≈ 0 on a blob (pores, flakes, glints); the gradient term cancels
    the half-strength response just inside a step edge (a dark region's border is not a shaft)."""
    b = cv2.GaussianBlur(grey, (0, 0), sigma)
    dxx = cv2.Sobel(b, cv2.CV_32F, 2, 0, ksize=1)
    dyy = cv2.Sobel(b, cv2.CV_32F, 0, 2, ksize=1)
    dxy2 = cv2.filter2D(b, cv2.CV_32F, _K_XY2)
    grad = cv2.magnitude(cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=1), cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=1))
    diff = dxx - dyy
    # λ1 − |λ2| = min(λ1 − λ2, λ1 + λ2) = min(|anisotropy|, Laplacian)
    line = cv2.min(cv2.magnitude(diff, dxy2), dxx + dyy)
    strength = line * (sigma * sigma) - grad * (0.25 * sigma)  # Sobel ksize=1 gradient is 2 × the derivative
    return strength, cv2.phase(diff, dxy2)  # = 2θ of the λ1 eigenvector, 0..2π


def _across_line_peak(best: np.ndarray, phase2: np.ndarray) -> np.ndarray:
    """Pixels that beat both neighbours across the line (Canny-style non-maximum suppression): every
    centre-line pixel survives, the shoulders beside it do not."""
    sector = (np.round(phase2 / (np.pi / 2)).astype(np.int8)) % 4  # 2θ in quarter turns → 0°, 45°, 90°, 135°
    pad = np.pad(best, 1, mode="edge")
    h, w = best.shape
    peak = np.zeros(best.shape, bool)
    for q, (dy, dx) in enumerate(((0, 1), (1, 1), (1, 0), (1, -1))):
        fwd = pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        bwd = pad[1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w]
        peak |= (sector == q) & (best >= fwd) & (best >= bwd)
    return peak


def _centre_lines(grey: np.ndarray, sigmas: np.ndarray) -> list[np.ndarray]:
    """Widths (2σ*, σ* refined by a parabola in log σ) along each dark line's centre line, one array per
    line that is at least _MIN_ELONGATION of its own widths long."""
    best = np.full(grey.shape, -np.inf, np.float32)
    best_k = np.zeros(grey.shape, np.int16)
    phase2 = np.zeros(grey.shape, np.float32)
    below = np.zeros(grey.shape, np.float32)  # strength one scale finer than the best so far
    above = np.zeros(grey.shape, np.float32)  # ... and one scale coarser
    prev = None
    for k, sigma in enumerate(sigmas):
        r, ph = _ridge_strength(grey, float(sigma))
        if prev is not None:
            np.copyto(above, r, where=best_k == k - 1)
            better = r > best
            np.copyto(below, prev, where=better)
        else:
            better = np.ones(grey.shape, bool)
        np.copyto(best, r, where=better)
        np.copyto(phase2, ph, where=better)
        best_k[better] = k
        prev = r
    floor = max(_MIN_CONTRAST, 0.3 * float(np.percentile(best[::2, ::2], 99.5)))
    # not at the ends of the scale range: there the true peak may lie outside it
    sel = (best >= floor) & (best_k > 0) & (best_k < len(sigmas) - 1)
    sel &= _across_line_peak(best, phase2)
    r0, r1, r2 = below[sel], best[sel], above[sel]
    curv = np.minimum(r0 - 2 * r1 + r2, -1e-6)
    offset = np.clip(0.5 * (r0 - r2) / curv, -0.5, 0.5)
    step = np.log(sigmas[1] / sigmas[0])
    widths = 2 * sigmas[0] * np.exp((best_k[sel] + offset) * step)
    return _elongated_chains(sel, widths)


def _elongated_chains(sel: np.ndarray, widths: np.ndarray) -> list[np.ndarray]:
    """Group centre-line pixels into 8-connected chains; keep chains long for their width. Pores, flakes,
    the shoulders of broad dark patches (scars, shadows) and hair-bundle crossings give short chains."""
    n, labels = cv2.connectedComponents(sel.astype(np.uint8), connectivity=8)
    lab = labels[sel]
    order = np.argsort(lab, kind="stable")
    lab, widths = lab[order], widths[order]
    bounds = np.searchsorted(lab, np.arange(1, n + 1))
    chains = [widths[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return [c for c in chains if len(c) >= _MIN_ELONGATION * np.median(c)]


def estimate_shaft_width_px(image: np.ndarray) -> float | None:
    """Typical hair-shaft width in pixels of an RGB uint8 close-up, or None.

    Widths of dark lines in the luminance are sampled along each line's centre; the answer is the median
    over all samples with each line's weight capped at _CHAIN_CAP samples, so one long burnt-in circle or
    scale bar, or a single long hair, cannot outvote the other shafts.

    Returns None when fewer than _MIN_SHAFTS separate shafts or fewer than _MIN_CENTRE_PX centre-line
    samples (≈ 15 shaft widths in all) are found — a bald or blank field, a scar close-up, fair hair on pale
    skin — or when the shafts read under _MIN_WIDTH_PX wide, where lens blur, not the shaft, sets the
    width. A scale guessed from a speck or two is worse than none; callers fall back to scale-free
    (relative) density. Shafts a few pixels wide read too wide: pass the full-resolution photo, not a
    thumbnail.
    """
    _check_image(image)
    chains = _shaft_chains(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    if len(chains) < _MIN_SHAFTS or sum(len(c) for c in chains) < _MIN_CENTRE_PX:
        return None
    width = _typical_width(chains)
    return width if width >= _MIN_WIDTH_PX else None


def _typical_width(chains: list[np.ndarray]) -> float:
    """Median of all samples, each chain's total weight capped at _CHAIN_CAP samples."""
    widths = np.concatenate(chains)
    weights = np.concatenate([np.full(len(c), min(1.0, _CHAIN_CAP / len(c))) for c in chains])
    order = np.argsort(widths)
    cum = np.cumsum(weights[order])
    return float(widths[order][np.searchsorted(cum, cum[-1] / 2)])


def _shaft_chains(grey: np.ndarray) -> list[np.ndarray]:
    """Centre-line width samples per shaft, in original pixels, from the luminance."""
    side = max(grey.shape)
    f = _COARSE_SIDE / side
    # raw readings here: they only size the fine pass, and erring wide sizes its opening safely
    chains = _measure(grey, f, _COARSE_SIGMAS, 3, calibrated=False)
    if not chains:
        return []
    # the highlight opening keeps the coarse pass's size: a fine reading split by a highlight must not
    # shrink the opening that is there to fill it
    opening = 0.8 * _typical_width(chains)
    fine_done = False
    # the fine pass resamples so shafts are ~_FINE_TARGET_PX wide, where the filter is calibrated; it runs
    # again when the coarse width was far off (shafts near the coarse pass's resolution limit)
    for _ in range(2):
        if not chains:
            return []
        width = _typical_width(chains)
        f_next = float(np.clip(_FINE_TARGET_PX / width * side, *_FINE_SIDE)) / side
        if fine_done and 0.8 < f_next / f < 1.25:
            break
        f, fine_done = f_next, True
        chains = _measure(grey, f, _FINE_SIGMAS, round(opening * f), calibrated=True)
    return chains


def _measure(
    grey: np.ndarray, f: float, sigmas: np.ndarray, opening_px: int, calibrated: bool
) -> list[np.ndarray]:
    """One pass at f × the size: per-chain widths in original pixels."""
    work = _resize(grey, f)
    if opening_px >= 3:
        # a grey opening narrower than the shaft removes the specular highlight along it (which would split
        # one shaft into two thin dark edges) but keeps its width; it also closes gaps that narrow
        k = opening_px | 1
        work = cv2.morphologyEx(work, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    fix = _true_width if calibrated else (lambda c: c)
    return [fix(c) / f for c in _centre_lines(work, sigmas)]


def _true_width(measured: np.ndarray) -> np.ndarray:
    """Undo the filter's own widening (see _BAR_GAIN); never more than halve a reading."""
    return np.sqrt(np.maximum(measured**2 - _BAR_BLUR_SQ, 0.25 * measured**2)) / _BAR_GAIN


def estimate_mm_per_px(image: np.ndarray, shaft_um: float = TYPICAL_SHAFT_UM) -> float | None:
    """Millimetres per pixel of a close-up, assuming its shafts are `shaft_um` µm wide (scalp: 50–100).

    None when the image shows too few shafts to measure (see estimate_shaft_width_px)."""
    if not 10.0 <= shaft_um <= 300.0:
        raise ValueError(f"shaft_um={shaft_um} is not a hair-shaft width; scalp hair is 50–100 µm, use ~70")
    width = estimate_shaft_width_px(image)
    return None if width is None else shaft_um / 1000.0 / width
