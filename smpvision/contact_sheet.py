"""Zone overlays and contact sheets: the quickest way for a person to eyeball many samples at once."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from smpvision.contracts import IGNORE_INDEX, ZONE_IDS

# Fixed so that every sheet, report and app screen reads the same way; background is left undrawn.
ZONE_COLOURS: dict[int, tuple[int, int, int]] = {
    ZONE_IDS["hair"]: (40, 200, 40),  # green
    ZONE_IDS["thinning"]: (250, 220, 0),  # yellow
    ZONE_IDS["bald"]: (230, 30, 30),  # red
    ZONE_IDS["scar"]: (255, 0, 255),  # magenta
    IGNORE_INDEX: (128, 128, 128),  # grey
}

_SHEET_BACKGROUND = (24, 24, 24)
_CAPTION_COLOUR = (235, 235, 235)


def zone_overlay(image: np.ndarray, zones: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend each zone's colour over ``image`` (RGB uint8) with opacity ``alpha``; background is untouched."""
    image = _as_rgb(image)
    zones = np.asarray(zones)
    if zones.shape != image.shape[:2]:
        raise ValueError(f"zones shape {zones.shape} does not match image shape {image.shape[:2]}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colour = np.zeros_like(image)
    painted = np.zeros(zones.shape, dtype=bool)
    for cls, rgb in ZONE_COLOURS.items():
        m = zones == cls
        colour[m] = rgb
        painted |= m
    out = image.astype(np.float32)
    out[painted] = (1.0 - alpha) * out[painted] + alpha * colour[painted].astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def contact_sheet(
    tiles: list[np.ndarray],
    captions: list[str] | None = None,
    tile: int = 192,
    columns: int = 4,
) -> np.ndarray:
    """Lay ``tiles`` out in a grid of ``columns``, each fitted into ``tile``x``tile`` px with a caption bar.

    Tiles keep their aspect ratio (letterboxed) so a sheet never distorts the anatomy it shows.
    """
    if not tiles:
        raise ValueError("contact_sheet needs at least one tile")
    if captions is not None and len(captions) != len(tiles):
        raise ValueError(f"{len(captions)} captions for {len(tiles)} tiles; pass one caption per tile")
    if tile < 16 or columns < 1:
        raise ValueError(f"tile must be >= 16 px and columns >= 1, got tile={tile}, columns={columns}")
    columns = min(columns, len(tiles))
    rows = -(-len(tiles) // columns)
    # Hershey text is drawn in pixels; scale it with the tile so captions stay legible but small.
    font_scale = max(0.3, tile / 480)
    (_, text_h), baseline = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
    bar = (text_h + baseline + 6) if captions is not None else 0
    cell_h, pad = tile + bar, 2
    sheet = np.empty((rows * (cell_h + pad) + pad, columns * (tile + pad) + pad, 3), dtype=np.uint8)
    sheet[:] = _SHEET_BACKGROUND
    for i, arr in enumerate(tiles):
        y0 = pad + (i // columns) * (cell_h + pad)
        x0 = pad + (i % columns) * (tile + pad)
        fitted = _fit(_as_rgb(arr), tile)
        fy, fx = (tile - fitted.shape[0]) // 2, (tile - fitted.shape[1]) // 2
        sheet[y0 + fy : y0 + fy + fitted.shape[0], x0 + fx : x0 + fx + fitted.shape[1]] = fitted
        if captions is not None:
            text = _truncate(captions[i], tile - 4, font_scale)
            org = (x0 + 2, y0 + tile + 3 + text_h)
            cv2.putText(
                sheet, text, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, _CAPTION_COLOUR, 1, cv2.LINE_AA
            )
    return sheet


def save_png(path: str | Path, array: np.ndarray) -> Path:
    """Save an RGB or greyscale uint8 array as PNG (creating parent folders); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"save_png needs uint8, got {arr.dtype}; scale and cast first")
    Image.fromarray(np.ascontiguousarray(arr)).save(path, compress_level=6)
    return path


def _as_rgb(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {arr.dtype}")
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim == 3 and arr.shape[2] == 3:
        return np.ascontiguousarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return np.ascontiguousarray(arr[:, :, :3])
    raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {arr.shape}")


def _fit(arr: np.ndarray, tile: int) -> np.ndarray:
    h, w = arr.shape[:2]
    scale = tile / max(h, w)
    if scale == 1.0:
        return arr
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # INTER_AREA avoids the aliasing that makes fine hair texture shimmer in downscaled thumbnails.
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    return cv2.resize(arr, size, interpolation=interp)


def _truncate(text: str, max_width: int, font_scale: float) -> str:
    # Hershey fonts are ASCII only; anything else would be drawn as '?'.
    text = text.encode("ascii", "replace").decode("ascii")
    while text and cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)[0][0] > max_width:
        text = text[:-2] + "~" if len(text) > 1 else ""
    return text
