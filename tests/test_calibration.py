"""The calibration card: printable sheet, marker detection (scale, grey patch), and the renderer's card."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from smpvision.analysis.calibration import (
    CARD_RECT_MM,
    GREY_PATCH_SRGB8,
    MARKER_SIDE_MM,
    draw_card,
    find_marker,
    sheet_image,
    write_sheet,
)
from smpvision.synth import render_sample


def _card_photo(ppm: float, angle: float, tilt: float, gain: tuple[float, float, float], size: int = 420):
    """The card drawn at ppm px/mm, rotated and slightly tilted onto a noisy mid-grey scene, then lit
    with a per-channel gain (in linear light) and blurred a little. Returns the image and the true
    marker corners."""
    rng = np.random.default_rng(0)
    card, affine = draw_card(ppm * 4)  # drawn finer, then warped down: like a photo of a print
    cx0, cy0, cx1, cy1 = -6.0, -6.0, 72.0, 36.0
    mm = np.float32([[cx0, cy0], [cx1, cy0], [cx1, cy1], [cx0, cy1]])
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    dst = (mm - mm.mean(0)) @ np.float32([[c, s], [-s, c]]) * ppm + size / 2
    dst = (dst + np.float32([[tilt, 0], [-tilt, 0], [tilt, tilt], [0, -tilt]])).astype(np.float32)
    hmat = cv2.getPerspectiveTransform(mm, dst)
    to_mm = np.linalg.inv(np.vstack([affine, [0, 0, 1]]))
    full = hmat @ to_mm
    warped = cv2.warpPerspective(cv2.GaussianBlur(card, (0, 0), 1.6), full, (size, size), borderValue=-1)
    scene = np.where(warped >= 0, warped, 128 + 20 * rng.standard_normal((size, size))).astype(np.float32)
    lin = ((np.clip(scene, 0, 255) / 255 + 0.055) / 1.055) ** 2.4
    lin = lin[..., None] * np.float32(gain)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.clip(lin, 0, 1) ** (1 / 2.4) - 0.055)
    img = np.clip(np.round(cv2.GaussianBlur(srgb, (0, 0), 0.7) * 255), 0, 255).astype(np.uint8)
    corners = cv2.perspectiveTransform(np.float32([[[0, 0], [30, 0], [30, 30], [0, 30]]]), hmat)[0]
    return img, corners


def test_sheet_files(tmp_path):
    png, pdf = write_sheet(tmp_path)
    im = Image.open(png)
    assert im.size == (2480, 3508)  # A4 at 300 dpi
    assert round(im.info["dpi"][0]) == 300
    assert pdf.read_bytes()[:5] == b"%PDF-"
    page = np.asarray(im)
    # the printed marker is found and measures 30 mm at the sheet's scale (here read at a sixth of it)
    small = cv2.resize(page, (page.shape[1] // 6, page.shape[0] // 6), interpolation=cv2.INTER_AREA)
    m = find_marker(np.repeat(small[..., None], 3, -1))
    assert m is not None
    assert m.mm_per_px == pytest.approx(25.4 / 50, rel=0.02)
    assert m.grey_rgb == pytest.approx((GREY_PATCH_SRGB8,) * 3, abs=1)
    assert m.white_rgb == pytest.approx((255,) * 3, abs=1)


def test_shipped_sheet_matches_generator():
    from importlib import resources

    shipped = resources.files("smpvision") / "data" / "marker_sheet.png"
    assert np.array_equal(np.asarray(Image.open(shipped)), sheet_image())
    assert (resources.files("smpvision") / "data" / "marker_sheet.pdf").is_file()


@pytest.mark.parametrize(
    ("ppm", "angle", "tilt", "gain"),
    [
        (2.0, 0.0, 0.0, (1.0, 1.0, 1.0)),
        (1.6, 33.0, 4.0, (0.55, 0.7, 1.2)),
        (2.6, -120.0, -6.0, (1.3, 1.1, 0.8)),
    ],
)
def test_find_marker_recovers_scale_and_grey(ppm, angle, tilt, gain):
    img, corners = _card_photo(ppm, angle, tilt, gain)
    m = find_marker(img)
    assert m is not None
    side_true = float(np.linalg.norm(corners - np.roll(corners, -1, 0), axis=1).mean())
    assert m.mm_per_px == pytest.approx(MARKER_SIDE_MM / side_true, rel=0.03)
    assert np.abs(m.corners - corners).max() < 1.5
    grey_lin = ((GREY_PATCH_SRGB8 / 255 + 0.055) / 1.055) ** 2.4 * np.float64(gain)
    expected = (1.055 * grey_lin ** (1 / 2.4) - 0.055) * 255
    assert np.allclose(m.grey_rgb, expected, atol=4)
    assert m.white_rgb is not None and min(m.white_rgb) > min(m.grey_rgb)


def test_no_marker_is_none():
    rng = np.random.default_rng(1)
    assert find_marker(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)) is None
    assert find_marker(render_sample(3, 192, kind="overview").image) is None


def test_rendered_card_is_found_where_the_label_says():
    for i in range(4):
        s = render_sample((41, i), 256, marker=True)
        assert s.meta["view"]["kind"] == "overview"
        label = s.meta["marker"]
        assert label["side_mm"] == MARKER_SIDE_MM and label["grey_lab"] == [50.0, 0.0, 0.0]
        m = find_marker(s.image)
        assert m is not None
        assert np.abs(m.corners - np.asarray(label["corners"])).max() < 2.0
        # the scene's scale before the camera's perspective warp: measured within 3.3 % median, 10 % max
        assert m.mm_per_px == pytest.approx(s.meta["mm_per_px"], rel=0.12)
        assert 60 < np.mean(m.grey_rgb) < 200  # exposed like the skin, neither black nor clipped


def test_card_changes_nothing_else():
    """Its own generator: the photo with the card is the photo without it, plus the card."""
    a = render_sample((42, 0), 192, kind="overview")
    b = render_sample((42, 0), 192, marker=True)
    marker_mm = np.float32([[0, 0], [30, 0], [30, 30], [0, 30]])
    hmat = cv2.getPerspectiveTransform(marker_mm, np.float32(b.meta["marker"]["corners"]))
    x0, y0, x1, y1 = CARD_RECT_MM
    outline = cv2.perspectiveTransform(np.float32([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]), hmat)[0]
    near = np.zeros(a.zones.shape, np.uint8)
    cv2.fillConvexPoly(near, np.round(outline).astype(np.int32), 1)
    near = cv2.dilate(near, np.ones((33, 33), np.uint8)) > 0  # blur and 8×8 / 16×16 JPEG blocks reach
    assert (~near).sum() > 1000
    assert np.array_equal(a.image[~near], b.image[~near])
    assert np.array_equal(a.zones[~near], b.zones[~near])
    assert a.meta["skin"] == b.meta["skin"] and a.meta["hair"] == b.meta["hair"]


def test_marker_in_a_closeup_is_refused():
    with pytest.raises(ValueError, match="overview"):
        render_sample(1, 128, kind="closeup", marker=True)
