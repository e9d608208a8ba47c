"""Zone overlay colours and contact-sheet geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smpvision.contact_sheet import ZONE_COLOURS, contact_sheet, save_png, zone_overlay


def test_overlay_leaves_background_and_colours_zones() -> None:
    image = np.full((4, 6, 3), 100, np.uint8)
    zones = np.array([[0, 1, 2, 3, 4, 255]] * 4, np.uint8)
    out = zone_overlay(image, zones, alpha=1.0)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert (out[:, 0] == 100).all()
    for col, cls in enumerate([1, 2, 3, 4, 255], start=1):
        assert tuple(out[0, col]) == ZONE_COLOURS[cls]
    half = zone_overlay(image, zones, alpha=0.5)
    assert (half[:, 0] == 100).all() and not (half[:, 1] == 100).all()


def test_overlay_rejects_mismatch() -> None:
    with pytest.raises(ValueError, match="does not match"):
        zone_overlay(np.zeros((4, 4, 3), np.uint8), np.zeros((3, 4), np.uint8))


def test_contact_sheet_shape_and_captions() -> None:
    tiles = [np.zeros((50, 80, 3), np.uint8), np.zeros((30, 30), np.uint8), np.zeros((64, 64, 4), np.uint8)]
    plain = contact_sheet(tiles, None, tile=32, columns=2)
    assert plain.dtype == np.uint8 and plain.shape == (2 * (32 + 2) + 2, 2 * (32 + 2) + 2, 3)
    captioned = contact_sheet(tiles, ["a", "b", "a very long caption that will not fit"], tile=64, columns=4)
    assert captioned.shape[1] == 3 * (64 + 2) + 2  # columns shrink to the number of tiles
    assert captioned.shape[0] > 64 + 4  # caption bar below the tile
    with pytest.raises(ValueError):
        contact_sheet([], None)
    with pytest.raises(ValueError, match="one caption per tile"):
        contact_sheet(tiles, ["x"])


def test_save_png(tmp_path: Path) -> None:
    arr = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    p = save_png(tmp_path / "sub" / "x.png", arr)
    np.testing.assert_array_equal(np.asarray(Image.open(p)), arr)
