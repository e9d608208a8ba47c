"""Report pictures and files: legible legends at phone and camera sizes, self-contained HTML, a PDF,
no EXIF/GPS of the source photo anywhere, and error documents rendered as a message."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smpvision.assess import AssessOptions, assess
from smpvision.contact_sheet import ZONE_COLOURS
from smpvision.report import density_heatmap, overlay_with_legend, report_html, report_pdf
from smpvision.report_content import DASH, cautions, verdict, zone_rows
from smpvision.report_images import text_px
from smpvision.segmenter import Segmenter
from smpvision.synth import render_sample

CAMERA = "SMPTESTCAMERA"  # a string only the source photo's EXIF holds


def jpeg_with_gps(path: Path, image: np.ndarray) -> Path:
    """Save like a phone does: EXIF with the camera make and a GPS position."""
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 22.0, 7.0), 3: "E", 4: (4.0, 53.0, 2.0)})
    Image.fromarray(image).save(path, quality=92, exif=exif)
    assert Image.open(path).getexif().get_ifd(0x8825), "the test photo must carry GPS"
    return path


@pytest.fixture(scope="module")
def segmenter():
    with Segmenter.from_path() as seg:
        yield seg


@pytest.fixture(scope="module")
def consultation(tmp_path_factory, segmenter):
    """A crown photo with GPS in its EXIF, a close-up, and a file that is not a photo."""
    folder = tmp_path_factory.mktemp("photos")
    crown = jpeg_with_gps(
        folder / "crown.jpg", render_sample((2024, 37), 384, "overview", region="crown").image
    )
    close = folder / "close.png"
    Image.fromarray(render_sample((2024, 136), 384, "closeup").image).save(close)
    bad = folder / "notes.jpg"
    bad.write_text("not a photo")
    options = AssessOptions(tags=["crown", "closeup", None])
    return assess([crown, close, bad], options, segmenter)


def legend_height(out: np.ndarray, photo_h: int) -> int:
    return out.shape[0] - photo_h


@pytest.mark.parametrize("side", [512, 4000])
def test_overlay_legend_is_legible_at_phone_and_camera_sizes(side: int) -> None:
    image = np.full((side, side, 3), 120, np.uint8)
    zones = np.zeros((side, side), np.uint8)
    zones[: side // 2] = 1
    zones[side // 2 :, : side // 2] = 2
    zones[side // 2 :, side // 2 :] = 3
    doc = {"zones": {z: {"fraction_of_scalp": f, "area_cm2": None} for z, f in
                     (("hair", 0.5), ("thinning", 0.25), ("bald", 0.25), ("scar", 0.0))}}  # fmt: skip
    out = overlay_with_legend(image, zones, doc)
    assert out.dtype == np.uint8 and out.shape[1] == side and out.shape[2] == 3
    strip = out[side:]
    # Text size follows the photo: >= 14 px on a 512 px photo, ~3 % of the side on a 4000 px one.
    assert text_px(side) >= 14 and text_px(side) >= 0.03 * side
    assert legend_height(out, side) >= 1.5 * text_px(side)
    for zone_id in (1, 2, 3, 4):  # every class has its colour box in the legend
        assert (strip.reshape(-1, 3) == ZONE_COLOURS[zone_id]).all(1).any(), zone_id
    assert (strip.reshape(-1, 3).max(1) < 60).sum() > side  # dark text was drawn


def test_heatmap_keeps_background_grey_and_adds_a_colour_bar() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (256, 320, 3), dtype=np.uint8)
    zones = np.zeros((256, 320), np.uint8)
    zones[64:, :] = 1
    density = np.zeros((256, 320), np.float32)
    density[64:, 160:] = 0.05
    out = density_heatmap(image, density, zones, mm_per_px=0.2)
    assert out.shape[1] == 320 and out.shape[0] > 256
    background = out[:50].astype(int)
    assert (background[..., 0] == background[..., 1]).all() and (
        background[..., 1] == background[..., 2]
    ).all()
    scalp = out[100:250].reshape(-1, 3).astype(int)
    assert (np.ptp(scalp, axis=1) > 30).mean() > 0.5  # coloured where there is scalp
    with pytest.raises(ValueError, match="does not match"):
        density_heatmap(image, density[:10], zones)


def test_html_report_is_self_contained_and_carries_no_exif(consultation) -> None:
    page = report_html(consultation)
    assert page.startswith("<!DOCTYPE html>") and "Scalp micropigmentation assessment" in page
    sources = re.findall(r"src='([^']*)'", page)
    assert len(sources) >= 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page
    assert CAMERA not in page
    for src in sources:
        png = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        assert not png.info and not png.getexif(), png.info
    assert "notes.jpg" in page and "left out" in page  # the unreadable file is named, not hidden


def test_pdf_report_is_a_pdf_without_source_metadata(consultation) -> None:
    pdf = report_pdf(consultation)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))
    assert 2 <= pages <= 6
    assert CAMERA.encode() not in pdf and b"Exif" not in pdf and b"GPS" not in pdf


def test_error_documents_render_as_a_message(tmp_path: Path, segmenter) -> None:
    bad = tmp_path / "scan.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    result = assess(bad, segmenter=segmenter)
    doc = result.to_dict()
    level, sentence = verdict(doc)
    assert level == "error" and "scan.jpg" in sentence
    assert zone_rows(doc) == [] and cautions(doc) == []
    page = report_html(result)
    assert "Not assessed" in page and "scan.jpg" in page and "Traceback" not in page
    assert report_pdf(result).startswith(b"%PDF-")


def test_no_plan_means_no_dot_targets() -> None:
    quarter = {"fraction_of_scalp": 0.25, "area_cm2": None}
    doc = {
        "status": "ok",
        "zones": dict.fromkeys(("hair", "thinning", "bald", "scar"), quarter),
        "density": {"relative": {}, "hairs_per_cm2": None},
        "recommendation": {"refer": True, "sessions": [], "flags": ["Refer to a doctor."],
                           "dots_per_cm2": dict.fromkeys(("hair", "thinning", "bald", "scar", "hairline"))},
    }  # fmt: skip
    assert verdict(doc)[0] == "stop"
    assert all(row[-1] == DASH and row[-2] == DASH for row in zone_rows(doc))
    assert cautions(doc) == ["Refer to a doctor."]


def test_example_close_up_scale_is_the_renderers() -> None:
    """The scale the app puts in with the close-up example is the one the renderer drew it at."""
    from smpvision.app_examples import EXAMPLES, SIZE

    for ex in EXAMPLES:
        if ex.mm_per_px is not None:
            label = render_sample(ex.seed, size=SIZE, kind=ex.kind, region=ex.region, marker=ex.marker).label
            assert ex.mm_per_px == pytest.approx(label["mm_per_px"], rel=1e-3)
