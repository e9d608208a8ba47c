"""Pictures for people: the photo with its zones and a legend, the hair-density heat map, colour swatches.

Everything here draws on fresh pixel arrays (never on the uploaded file), so nothing of the source photo's
metadata can travel into a report. Text is drawn with a TrueType font found on the system (DejaVu, Liberation,
Arial) or Pillow's built-in one; sizes follow the image so a legend reads the same on a 512 px phone crop
and on a 4000 px camera photo.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .contact_sheet import ZONE_COLOURS, zone_overlay
from .contracts import ZONE_IDS

ZONE_LABELS: dict[str, str] = {"hair": "Hair", "thinning": "Thinning", "bald": "Bald", "scar": "Scar"}
STRIP_BG = (250, 250, 250)
INK = (20, 20, 20)
MUTED = (90, 90, 90)

# Fonts with the glyphs the reports use (², °, ≈, µ, ×): DejaVu and Liberation on Linux, Arial elsewhere.
_FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts", "/Library/Fonts", "/System/Library/Fonts",
              "C:/Windows/Fonts")  # fmt: skip
_FONT_FILES = {
    False: ("dejavu/DejaVuSans.ttf", "DejaVuSans.ttf", "liberation/LiberationSans-Regular.ttf",
            "LiberationSans-Regular.ttf", "Supplemental/Arial.ttf", "Arial.ttf", "arial.ttf"),
    True: ("dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf", "liberation/LiberationSans-Bold.ttf",
           "LiberationSans-Bold.ttf", "Supplemental/Arial Bold.ttf", "Arial Bold.ttf", "arialbd.ttf"),
}  # fmt: skip
# Pillow's built-in font is Latin only: these are written out instead of drawn as empty boxes.
_ASCII_FALLBACK = {"²": "2", "³": "3", "µ": "u", "×": "x", "≈": "~", "–": "-", "—": "-", "→": "->",
                   "≤": "<=", "≥": ">=", "’": "'", "‘": "'", "“": '"', "”": '"'}  # fmt: skip


@functools.lru_cache(maxsize=2)
def _font_path(bold: bool) -> str | None:
    for folder in _FONT_DIRS:
        for name in _FONT_FILES[bold]:
            if (Path(folder) / name).is_file():
                return str(Path(folder) / name)
    return None


@functools.lru_cache(maxsize=64)
def font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path(bold) or _font_path(False)
    return ImageFont.truetype(path, px) if path else ImageFont.load_default(size=px)


def drawable(text: str) -> str:
    """`text` as the available font can draw it (the built-in font lacks ², µ, accents, ...)."""
    if _font_path(False):
        return text
    text = "".join(_ASCII_FALLBACK.get(c, c) for c in text)
    return unicodedata.normalize("NFKD", text).encode("latin-1", "ignore").decode("latin-1")


def text_px(image_side: int, share: float = 0.032, minimum: int = 14) -> int:
    """Font size for captions drawn on an image whose long side is `image_side` px."""
    return max(minimum, round(image_side * share))


def wrap(text: str, fnt: ImageFont.ImageFont, width: float) -> list[str]:
    """Greedy word wrap to `width` px; a word longer than the line is put on a line of its own."""
    lines: list[str] = []
    for paragraph in drawable(text).split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}".strip()
            if line and fnt.getlength(trial) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def hex_rgb(value: str | None, default: tuple[int, int, int] = (200, 200, 200)) -> tuple[int, int, int]:
    if not value or len(value) != 7 or not value.startswith("#"):
        return default
    try:
        return tuple(int(value[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    except ValueError:
        return default


# ---------------------------------------------------------------------------------------------- overlay


def overlay_with_legend(image: np.ndarray, zones: np.ndarray, document: Mapping | None = None) -> np.ndarray:
    """The photo with its zones blended in colour, over a legend strip that names each colour (and, when
    the assessment `document` is given, each zone's share of the scalp and its area). RGB uint8."""
    blended = zone_overlay(image, zones)
    shares = (document or {}).get("zones") or {}
    items: list[tuple[tuple[int, int, int] | None, str]] = []
    for name, label in ZONE_LABELS.items():
        entry = shares.get(name) or {}
        frac, area = entry.get("fraction_of_scalp"), entry.get("area_cm2")
        text = label
        if frac is not None:
            text += f" {frac * 100:.0f} %"
            if area is not None:  # close-ups cover a fraction of a cm²
                text += f" ({area:.0f} cm²)" if area >= 10 else f" ({area:.2g} cm²)"
        items.append((ZONE_COLOURS[ZONE_IDS[name]], text))
    items.append((None, "no colour = not scalp"))
    return _with_strip(blended, items)


def density_heatmap(
    image: np.ndarray,
    density: np.ndarray,
    zones: np.ndarray | None = None,
    mm_per_px: float | None = None,
) -> np.ndarray:
    """Local hair density as colour over a grey copy of the photo, with a colour bar: dark purple = no
    hair, yellow = the densest hair. With `zones`, non-scalp stays grey; with `mm_per_px` the bar is
    labelled in hairs/cm², else relative to the densest hair in the photo. RGB uint8."""
    rgb = np.asarray(image)
    dens = np.asarray(density, dtype=np.float32)
    if dens.shape != rgb.shape[:2]:
        raise ValueError(f"density shape {dens.shape} does not match image shape {rgb.shape[:2]}")
    # A hair is a point; what a technician reads is hairs per patch of scalp, so smooth over ~2 % of the side.
    sigma = max(1.5, 0.02 * max(dens.shape))
    local = cv2.GaussianBlur(dens, (0, 0), sigma)
    scalp = zones != ZONE_IDS["background"] if zones is not None else np.ones(dens.shape, bool)
    top = float(np.percentile(local[scalp], 99)) if scalp.any() else 0.0
    norm = np.clip(local / top, 0, 1) if top > 0 else np.zeros_like(local)
    heat = cv2.applyColorMap(np.rint(norm * 255).astype(np.uint8), cv2.COLORMAP_VIRIDIS)[..., ::-1]
    grey = cv2.cvtColor(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB).astype(np.float32)
    alpha = np.where(scalp, 0.7, 0.0)[..., None]
    out = np.clip(grey * (1 - alpha) + heat.astype(np.float32) * alpha, 0, 255).astype(np.uint8)
    if mm_per_px:
        hi = f"{top * 100 / mm_per_px**2:.0f} hairs/cm²"
        caption = "Hair density (hairs per cm²)"
    else:
        hi, caption = "densest hair", "Hair density, relative to this photo"
    return _with_colour_bar(out, caption, "no hair", hi)


def swatch(hex_colour: str | None, size: int = 64) -> np.ndarray:
    """A plain square of the colour (grey when unknown), for reports and the app."""
    return np.full((size, size, 3), hex_rgb(hex_colour), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------- strips


def _with_strip(image: np.ndarray, items: Sequence[tuple[tuple[int, int, int] | None, str]]) -> np.ndarray:
    """Append a legend strip below `image`: a colour box and a label per item, wrapping onto more rows."""
    h, w = image.shape[:2]
    px = text_px(max(h, w))
    fnt = font(px)
    box, gap, pad = px, px, px // 2
    cells = [
        (rgb, drawable(text), (box + pad if rgb else 0) + fnt.getlength(drawable(text)))
        for rgb, text in items
    ]
    rows: list[list] = [[]]
    x = pad
    for cell in cells:
        if rows[-1] and x + cell[2] > w - pad:
            rows.append([])
            x = pad
        rows[-1].append(cell)
        x += cell[2] + gap
    row_h = round(px * 1.6)
    strip = Image.new("RGB", (w, row_h * len(rows) + pad), STRIP_BG)
    draw = ImageDraw.Draw(strip)
    for r, row in enumerate(rows):
        x, y = pad, pad // 2 + r * row_h + (row_h - px) // 2
        for rgb, text, width in row:
            if rgb:
                draw.rectangle([x, y, x + box, y + box], fill=rgb, outline=INK, width=max(1, px // 12))
                draw.text((x + box + pad, y + box / 2), text, fill=INK, font=fnt, anchor="lm")
            else:
                draw.text((x, y + box / 2), text, fill=MUTED, font=fnt, anchor="lm")
            x += width + gap
    return np.vstack([np.asarray(image, np.uint8), np.asarray(strip)])


def _with_colour_bar(image: np.ndarray, caption: str, lo: str, hi: str) -> np.ndarray:
    h, w = image.shape[:2]
    px = text_px(max(h, w))
    fnt, pad = font(px), px // 2
    lo, hi, caption = drawable(lo), drawable(hi), drawable(caption)
    bar_x0 = pad + round(fnt.getlength(lo)) + pad
    bar_x1 = w - pad - round(fnt.getlength(hi)) - pad
    row_h = round(px * 1.6)
    strip = Image.new("RGB", (w, 2 * row_h + pad), STRIP_BG)
    draw = ImageDraw.Draw(strip)
    draw.text((pad, pad // 2 + row_h / 2), caption, fill=INK, font=fnt, anchor="lm")
    y0, y1 = pad // 2 + row_h + (row_h - px) // 2, pad // 2 + row_h + (row_h + px) // 2
    if bar_x1 - bar_x0 > 8:
        ramp = np.linspace(0, 255, bar_x1 - bar_x0).astype(np.uint8)[None, :]
        colours = cv2.applyColorMap(ramp, cv2.COLORMAP_VIRIDIS)[..., ::-1]
        strip.paste(Image.fromarray(np.repeat(colours, y1 - y0, axis=0)), (bar_x0, y0))
    draw.text((pad, (y0 + y1) / 2), lo, fill=INK, font=fnt, anchor="lm")
    draw.text((w - pad, (y0 + y1) / 2), hi, fill=INK, font=fnt, anchor="rm")
    return np.vstack([np.asarray(image, np.uint8), np.asarray(strip)])


def fit_side(image: np.ndarray, max_side: int, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    """Downscale (never up) so the long side is at most `max_side`; keeps pages and the browser light.
    Zone ids need `cv2.INTER_NEAREST` (an average of two class ids is a third class)."""
    h, w = image.shape[:2]
    f = max_side / max(h, w)
    if f >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=interpolation)


def photo_figures(photo: Any, max_side: int = 1280) -> list[tuple[str, np.ndarray]]:
    """(title, RGB image) pairs for one assessed photo (`smpvision.assess.PhotoResult`): the zone overlay
    with its legend and the density heat map. Photos refused before segmentation have none."""
    doc, image, zones = photo.document, photo.image, photo.zones
    if image is None or zones is None:
        return []
    name = doc.get("file", "photo")
    small, ids = fit_side(image, max_side), fit_side(zones, max_side, cv2.INTER_NEAREST)
    figures = [(f"{name}: zones", overlay_with_legend(small, ids, doc))]
    if photo.density is not None:
        f = small.shape[0] / image.shape[0]
        # A per-pixel density resized by f must keep hairs per area: INTER_AREA averages, so divide by f².
        dens = cv2.resize(photo.density, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
        mm = (doc.get("calibration") or {}).get("mm_per_px")
        figures.append(
            (f"{name}: hair density", density_heatmap(small, dens / f**2, ids, mm / f if mm else None))
        )
    return figures
