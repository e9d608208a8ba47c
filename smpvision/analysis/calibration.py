"""Scale and colour calibration from a printed card: an ArUco marker of known size next to a grey and a
white patch.

The card is held flat next to the scalp, in the same light, when the photo is taken. The marker gives
mm per pixel (its side is known) and its pose (corner order fixes the card's orientation), from which the
grey and white patches are located and sampled: the grey patch is the white-balance and exposure
reference that skin tone needs (`smpvision.analysis.colour`).

    python -m smpvision.analysis.calibration sheet OUT_DIR   # writes marker_sheet.png and .pdf

All card geometry is in millimetres in the marker's own frame: origin at the outer top-left corner of the
black marker square, x to the right, y down (ArUco's corner order: top-left, top-right, bottom-right,
bottom-left).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MARKER_DICT = cv2.aruco.DICT_4X4_50
MARKER_ID = 7
MARKER_SIDE_MM = 30.0  # black square including its one-module black border (6 modules of 5 mm)
GREY_PATCH_LAB = (50.0, 0.0, 0.0)  # the printed truth: 18 % reflectance neutral grey
GREY_PATCH_SRGB8 = 119  # sRGB of L* 50 (0.466 × 255): what the sheet file asks the printer for
# Rectangles (x0, y0, x1, y1) in the marker frame, mm. The patches sit right of the marker, past a
# quiet zone of more than one module (ArUco needs white around the black border).
GREY_RECT_MM = (36.0, 0.0, 66.0, 14.5)
WHITE_RECT_MM = (36.0, 15.5, 66.0, 30.0)
CARD_RECT_MM = (-6.0, -6.0, 72.0, 36.0)  # the cut outline
SAMPLE_INSET = 0.25  # sample a patch's inner part only: pose error and blur smear its edges
SHEET_DPI = 300
A4_MM = (210.0, 297.0)
SHEET_TEXT = (
    "smpvision calibration card",
    "Print at 100 % (no 'fit to page'). The black marker square must measure 30 mm: check with a ruler.",
    "Cut along the grey line. Hold the card flat next to the scalp, facing the camera, in the same light,",
    "and keep the whole card in the photo. Grey patch: CIELAB L* 50, a* 0, b* 0 (18 % grey).",
    "Keep the card clean, dry and out of the sun: a faded or stained grey patch gives wrong skin tones.",
)

__all__ = [
    "Marker", "find_marker", "draw_card", "sheet_image", "write_sheet", "MARKER_DICT", "MARKER_ID",
    "MARKER_SIDE_MM", "GREY_PATCH_LAB", "GREY_RECT_MM", "WHITE_RECT_MM", "CARD_RECT_MM",
]  # fmt: skip


@dataclass
class Marker:
    corners: np.ndarray  # (4, 2) float xy in ArUco order: top-left, top-right, bottom-right, bottom-left
    side_px: float  # mean of the four sides
    mm_per_px: float
    grey_rgb: tuple[float, float, float] | None  # sRGB 0..255 median of the grey patch's inner part
    white_rgb: tuple[float, float, float] | None

    def to_dict(self) -> dict:
        """JSON-ready record (the assessment's calibration block can carry it)."""
        rnd = lambda v: None if v is None else [round(float(x), 2) for x in v]  # noqa: E731
        return {
            "corners": np.round(self.corners.astype(np.float64), 2).tolist(),
            "side_px": round(self.side_px, 3),
            "mm_per_px": round(self.mm_per_px, 6),
            "grey_rgb": rnd(self.grey_rgb),
            "white_rgb": rnd(self.white_rgb),
        }


def _marker_corners_mm() -> np.ndarray:
    s = MARKER_SIDE_MM
    return np.float32([[0, 0], [s, 0], [s, s], [0, s]])


def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    # sub-pixel corners: mm/px comes from the side length, so a pixel of corner error at a 40 px side
    # would otherwise be a 2.5 % scale error
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(MARKER_DICT), params)


def find_marker(image: np.ndarray) -> Marker | None:
    """The calibration card's marker in an RGB photo (uint8, or float 0..1), or None when there is none."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    grey = img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
    corners, ids, _ = _detector().detectMarkers(grey)
    if ids is None:
        return None
    found = [c.reshape(4, 2).astype(np.float64) for c, i in zip(corners, ids.ravel(), strict=True)]
    found = [c for c, i in zip(found, ids.ravel(), strict=True) if int(i) == MARKER_ID]
    if not found:
        return None
    c = max(found, key=lambda q: cv2.contourArea(q.astype(np.float32)))  # several cards: the nearest
    side_px = float(np.linalg.norm(c - np.roll(c, -1, axis=0), axis=1).mean())
    hmat = cv2.getPerspectiveTransform(_marker_corners_mm(), c.astype(np.float32))
    rgb = img if img.ndim == 3 else np.repeat(img[..., None], 3, -1)
    return Marker(
        corners=c,
        side_px=side_px,
        mm_per_px=MARKER_SIDE_MM / side_px,
        grey_rgb=_sample_patch(rgb, hmat, GREY_RECT_MM),
        white_rgb=_sample_patch(rgb, hmat, WHITE_RECT_MM),
    )


def _sample_patch(rgb: np.ndarray, hmat: np.ndarray, rect: tuple[float, ...]) -> tuple[float, ...] | None:
    """Per-channel median over the patch's inner part (median: a glint, a fingertip or a crease on the
    card must not shift the reference). None when the patch leaves the frame or is too small to trust."""
    x0, y0, x1, y1 = rect
    dx, dy = (x1 - x0) * SAMPLE_INSET, (y1 - y0) * SAMPLE_INSET
    inner = np.float32([[x0 + dx, y0 + dy], [x1 - dx, y0 + dy], [x1 - dx, y1 - dy], [x0 + dx, y1 - dy]])
    poly = cv2.perspectiveTransform(inner[None], hmat)[0]
    h, w = rgb.shape[:2]
    if poly.min() < 0 or poly[:, 0].max() > w - 1 or poly[:, 1].max() > h - 1:
        return None
    xa, ya = np.floor(poly.min(0)).astype(int)
    xb, yb = np.ceil(poly.max(0)).astype(int) + 1
    mask = np.zeros((yb - ya, xb - xa), np.uint8)
    cv2.fillConvexPoly(mask, np.round((poly - [xa, ya]) * 16).astype(np.int32), 1, cv2.LINE_8, shift=4)
    px = rgb[ya:yb, xa:xb][mask > 0]
    if len(px) < 6:
        return None
    return tuple(float(v) for v in np.median(px.astype(np.float32), axis=0))


def draw_card(px_per_mm: float, paper: float = 255.0, ink: float = 0.0, grey: float | None = None,
              outline: float | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The card (CARD_RECT_MM) as a float32 single-channel image at px_per_mm, and the affine 2×3
    matrix that maps marker-frame mm to its pixel coordinates (pixel centres are integers).

    Levels are parameters so the same drawing serves the printable sheet (0..255) and the renderer
    (scene reflectances)."""
    grey = GREY_PATCH_SRGB8 * paper / 255.0 if grey is None else grey
    cx0, cy0, cx1, cy1 = CARD_RECT_MM
    w, h = int(round((cx1 - cx0) * px_per_mm)), int(round((cy1 - cy0) * px_per_mm))
    card = np.full((h, w), paper, np.float32)

    def px(x: float, y: float) -> tuple[int, int]:
        return int(round((x - cx0) * px_per_mm)), int(round((y - cy0) * px_per_mm))

    module = MARKER_SIDE_MM / 6.0
    bits = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(MARKER_DICT), MARKER_ID, 6)
    for (r, c), v in np.ndenumerate(bits):
        a, b = px(c * module, r * module), px((c + 1) * module, (r + 1) * module)
        card[a[1] : b[1], a[0] : b[0]] = ink if v == 0 else paper
    ga, gb = px(*GREY_RECT_MM[:2]), px(*GREY_RECT_MM[2:])
    card[ga[1] : gb[1], ga[0] : gb[0]] = grey
    line = max(1, int(round(0.3 * px_per_mm)))
    wa, wb = px(*WHITE_RECT_MM[:2]), px(*WHITE_RECT_MM[2:])
    cv2.rectangle(card, wa, (wb[0] - 1, wb[1] - 1), ink, line)  # a thin frame says "this is a patch"
    if outline is not None:
        cv2.rectangle(card, (0, 0), (w - 1, h - 1), outline, line)
    affine = np.float32([[px_per_mm, 0, (-cx0) * px_per_mm - 0.5], [0, px_per_mm, (-cy0) * px_per_mm - 0.5]])
    return card, affine


def sheet_image(dpi: int = SHEET_DPI) -> np.ndarray:
    """The printable A4 page (uint8 greyscale): the card with a cut line, a 50 mm check ruler and the
    printing instructions."""
    from PIL import Image, ImageDraw, ImageFont

    ppm = dpi / 25.4
    page = np.full((int(round(A4_MM[1] * ppm)), int(round(A4_MM[0] * ppm))), 255, np.uint8)
    card, _ = draw_card(ppm, outline=160.0)
    top, left = int(round(20 * ppm)), int(round(20 * ppm))
    page[top : top + card.shape[0], left : left + card.shape[1]] = np.round(card).astype(np.uint8)
    # a 50 mm ruler with 1 mm ticks: a second, independent check of the print scale
    ry = top + card.shape[0] + int(round(12 * ppm))
    x0 = left
    cv2.line(page, (x0, ry), (x0 + int(round(50 * ppm)), ry), 0, max(1, int(round(0.3 * ppm))))
    for mm in range(51):
        tick = 4 if mm % 10 == 0 else (2.5 if mm % 5 == 0 else 1.5)
        x = x0 + int(round(mm * ppm))
        cv2.line(page, (x, ry), (x, ry - int(round(tick * ppm))), 0, max(1, int(round(0.2 * ppm))))
    pil = Image.fromarray(page)
    draw = ImageDraw.Draw(pil)
    font = ImageFont.load_default(size=int(round(3.2 * ppm)))
    small = ImageFont.load_default(size=int(round(2.6 * ppm)))
    draw.text((x0 + int(round(53 * ppm)), ry - int(round(3.5 * ppm))), "50 mm", fill=0, font=small)
    y = ry + int(round(10 * ppm))
    for i, line in enumerate(SHEET_TEXT):
        draw.text((left, y), line, fill=0, font=font if i == 0 else small)
        y += int(round((7 if i == 0 else 4.5) * ppm))
    return np.asarray(pil)


def write_sheet(out_dir: str | Path, dpi: int = SHEET_DPI) -> tuple[Path, Path]:
    """Write marker_sheet.png and marker_sheet.pdf (A4, print at 100 %) into out_dir."""
    from PIL import Image

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(sheet_image(dpi))
    png, pdf = out / "marker_sheet.png", out / "marker_sheet.pdf"
    pil.save(png, dpi=(dpi, dpi), optimize=True)
    pil.save(pdf, "PDF", resolution=float(dpi))  # page size = pixels / dpi = A4
    return png, pdf


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "sheet":
        print("usage: python -m smpvision.analysis.calibration sheet OUT_DIR", file=sys.stderr)
        return 2
    for path in write_sheet(args[1]):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
