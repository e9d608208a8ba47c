"""Annotated-photo folder: round trip and every loader error of DESIGN.md's format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from smpvision.annotations import (
    LABEL_FIELDS,
    AnnotatedFolder,
    AnnotationError,
    dumps_label,
    write_sample,
)
from smpvision.contracts import IGNORE_INDEX


def _sample(h: int = 24, w: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    zones = rng.integers(0, 5, (h, w), dtype=np.uint8)
    zones[0, 0] = IGNORE_INDEX
    label = {
        "hairs": [[1.234567, 2.0], [w - 0.5, h - 0.5], [-0.5, 0.0]],
        "mm_per_px": 0.04,
        "view": {"kind": "closeup", "region": "trichoscope"},
        "skin": {"lab": [60.0, 10.0, 15.0], "ita_deg": 33.69, "fitzpatrick": 3},
        "hair": {"lab": [20.0, 1.0, 4.0], "name": "dark brown", "grey_fraction": 0.0},
        "scars": [{"type": "fue_dots"}],
        "pattern": "norwood_3",
    }
    return image, zones, label


def _folder(tmp_path: Path, name: str = "a", **kw: object) -> Path:
    image, zones, label = _sample(**kw)  # type: ignore[arg-type]
    write_sample(tmp_path, name, image, zones, label)
    return tmp_path


def test_round_trip(tmp_path: Path) -> None:
    image, zones, label = _sample()
    write_sample(tmp_path, "x1", image, zones, label)
    folder = AnnotatedFolder(tmp_path)
    assert folder.names == ["x1"] and len(folder) == 1
    s = folder[0]
    assert s.name == "x1"
    assert s.image.dtype == np.uint8 and s.zones.dtype == np.uint8
    np.testing.assert_array_equal(s.image, image)
    np.testing.assert_array_equal(s.zones, zones)
    expected = dict(label, hairs=[[1.23, 2.0], [31.5, 23.5], [-0.5, 0.0]])
    assert s.label == expected
    assert folder.load("x1").label == expected
    assert [t.name for t in folder] == ["x1"]


def test_written_files_are_deterministic_and_sorted(tmp_path: Path) -> None:
    image, zones, label = _sample()
    write_sample(tmp_path / "a", "s", image, zones, label)
    # Same content given as a numpy array and in another key order: same bytes.
    reordered = {k: label[k] for k in reversed(label) if k != "hairs"}
    write_sample(tmp_path / "b", "s", image, zones, {"hairs": np.array(label["hairs"]), **reordered})
    for sub in ("images/s.png", "zones/s.png", "labels/s.json"):
        assert (tmp_path / "a" / sub).read_bytes() == (tmp_path / "b" / sub).read_bytes(), sub
    text = (tmp_path / "a" / "labels" / "s.json").read_text()
    keys = [line.split('"')[1] for line in text.splitlines()[1:-1]]
    assert keys == sorted(keys)
    assert Image.open(tmp_path / "a" / "zones" / "s.png").mode == "L"


def test_dumps_label_handles_numpy_scalars() -> None:
    out = json.loads(dumps_label({"mm_per_px": np.float32(0.5), "n": np.int64(3)}))
    assert out == {"mm_per_px": 0.5, "n": 3}


def test_missing_label_gives_all_none(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "labels" / "a.json").unlink()
    s = AnnotatedFolder(tmp_path)[0]
    assert s.label == dict.fromkeys(LABEL_FIELDS)


def test_partial_label_fills_missing_fields(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "labels" / "a.json").write_text('{"pattern": "diffuse", "extra": 1}')
    label = AnnotatedFolder(tmp_path)[0].label
    assert label["pattern"] == "diffuse" and label["extra"] == 1 and label["hairs"] is None


def test_jpeg_with_exif_orientation_and_odd_modes(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "zones").mkdir()
    # Stored 40 wide x 20 high, EXIF orientation 6 (rotate 90 cw to view): upright it is 20 x 40.
    raw = Image.new("RGB", (40, 20), (200, 100, 50))
    exif = Image.Exif()
    exif[0x0112] = 6
    raw.save(tmp_path / "images" / "p.JPG", exif=exif.tobytes())
    Image.fromarray(np.ones((40, 20), np.uint8)).save(tmp_path / "zones" / "p.png")
    Image.new("RGBA", (8, 8), (1, 2, 3, 4)).save(tmp_path / "images" / "q.png")
    # Palette mask as labelling tools export it: the indices are the class ids, the palette is for show.
    mask = Image.fromarray(np.full((8, 8), 3, np.uint8))
    mask.putpalette([0, 0, 0, 0, 255, 0, 255, 255, 0, 255, 0, 0, 255, 0, 255])
    mask.save(tmp_path / "zones" / "q.png")
    folder = AnnotatedFolder(tmp_path)
    assert folder.names == ["p", "q"]
    p = folder.load("p")
    assert p.image.shape == (40, 20, 3)
    q = folder.load("q")
    assert q.image.shape == (8, 8, 3) and (q.image == [1, 2, 3]).all()
    assert (q.zones == 3).all()


def test_ignores_non_image_files(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "images" / "notes.txt").write_text("hi")
    (tmp_path / "images" / ".DS_Store").write_bytes(b"\0")
    assert AnnotatedFolder(tmp_path).names == ["a"]


# ------------------------------------------------------------------------------------------ errors


def _err(path: Path, *fragments: str) -> None:
    with pytest.raises(AnnotationError) as info:
        folder = AnnotatedFolder(path)
        for _ in folder:
            pass
    msg = str(info.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_error_folder_missing(tmp_path: Path) -> None:
    _err(tmp_path / "nope", "nope", "not found")


def test_error_no_images_subfolder(tmp_path: Path) -> None:
    _err(tmp_path, "no images/ subfolder")


def test_error_empty_images(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    _err(tmp_path, "no images found")


def test_error_duplicate_stem(tmp_path: Path) -> None:
    _folder(tmp_path)
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "a.jpg")
    _err(tmp_path, "two images named 'a'")


def test_error_image_without_mask(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "zones" / "a.png").unlink()
    _err(tmp_path, "a.png", "no zones mask", "add")


def test_error_mask_size(tmp_path: Path) -> None:
    _folder(tmp_path)
    Image.fromarray(np.zeros((10, 12), np.uint8)).save(tmp_path / "zones" / "a.png")
    _err(tmp_path, "12x10", "32x24", "resize")


def test_error_mask_values(tmp_path: Path) -> None:
    _folder(tmp_path)
    m = np.zeros((24, 32), np.uint8)
    m[0, :3] = [5, 7, 254]
    Image.fromarray(m).save(tmp_path / "zones" / "a.png")
    _err(tmp_path, "5, 7, 254", "255")


def test_error_mask_not_single_channel(tmp_path: Path) -> None:
    _folder(tmp_path)
    Image.new("RGB", (32, 24)).save(tmp_path / "zones" / "a.png")
    _err(tmp_path, "single-channel", "RGB")


def test_error_unreadable_image(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "images" / "a.png").write_bytes(b"not a png at all")
    _err(tmp_path, "a.png", "cannot read image")


def test_error_truncated_image(tmp_path: Path) -> None:
    _folder(tmp_path)
    p = tmp_path / "images" / "a.png"
    p.write_bytes(p.read_bytes()[:200])
    _err(tmp_path, "a.png", "cannot read image")


def test_error_malformed_json(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "labels" / "a.json").write_text('{"hairs": [1, 2')
    _err(tmp_path, "a.json", "malformed JSON")


def test_error_json_not_object(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / "labels" / "a.json").write_text("[1, 2]")
    _err(tmp_path, "a.json", "JSON object")


@pytest.mark.parametrize("hairs", ['{"x": 1}', "[[1, 2, 3]]", "[1, 2]", '[["1", 2]]', "[[true, 1]]"])
def test_error_hairs_not_pairs(tmp_path: Path, hairs: str) -> None:
    _folder(tmp_path)
    (tmp_path / "labels" / "a.json").write_text(f'{{"hairs": {hairs}}}')
    _err(tmp_path, "a.json", "[x, y] pairs")


@pytest.mark.parametrize("pt", ["[32, 1]", "[1, 24]", "[-1, 0]", "[0, -0.6]"])
def test_error_hair_outside_image(tmp_path: Path, pt: str) -> None:
    _folder(tmp_path)
    (tmp_path / "labels" / "a.json").write_text(f'{{"hairs": [[1, 1], {pt}]}}')
    _err(tmp_path, "a.json", "hairs[1]", "outside the 32x24 px image")


def test_write_rejects_bad_inputs(tmp_path: Path) -> None:
    image, zones, label = _sample()
    with pytest.raises(AnnotationError, match="plain file name"):
        write_sample(tmp_path, "../evil", image, zones, label)
    with pytest.raises(AnnotationError, match="uint8 RGB"):
        write_sample(tmp_path, "a", image[..., 0], zones, label)
    with pytest.raises(AnnotationError, match="match the image"):
        write_sample(tmp_path, "a", image, zones[:5], label)
    with pytest.raises(AnnotationError, match="not class ids"):
        write_sample(tmp_path, "a", image, zones + 10, label)
    with pytest.raises(AnnotationError, match="outside"):
        write_sample(tmp_path, "a", image, zones, dict(label, hairs=[[100.0, 1.0]]))
