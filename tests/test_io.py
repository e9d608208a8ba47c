"""smpvision.io: a corpus of bad and odd uploads, all built in code inside tmp_path (no binary fixtures).

Bad input must raise ImageError with one line that names the file and says what to do; odd-but-valid input
must come back as upright (H, W, 3) uint8 RGB with the colours a viewer would show.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import time
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile, JpegImagePlugin

from smpvision import io as sio
from smpvision.io import MIN_SIDE, ImageError, LoadedImage, image_to_png_bytes, load_image

# Every fix must tell the technician to do something; one of these verbs appears in each.
HINT_WORDS = (
    "need",
    "use",
    "re-export",
    "install",
    "export",
    "upload",
    "check",
    "pass",
    "resize",
    "divide",
    "copy",
)
RED = (220, 30, 30)
BLUE = (30, 40, 210)
GREY = (128, 128, 128)


# ----------------------------------------------------------------------------------------------------------
# Builders


def encode(im: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def write(tmp_path: Path, filename: str, data: bytes) -> Path:
    path = tmp_path / filename
    path.write_bytes(data)
    return path


def png_chunk(tag: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))


def declared_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height 8-bit RGB: the shape of a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def png_chunk_types(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, tags = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tags.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return tags


def noisy_rgb(width: int, height: int, seed: int = 0) -> Image.Image:
    # Noise so JPEG/PNG files are not trivially small (truncation then cuts real image data).
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8), "RGB")


def assert_refused(source: object, expected: str, *, fragment: str = "", **kwargs: object) -> ImageError:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning or other noise leaks to the caller
        with pytest.raises(ImageError) as info:
            load_image(source, **kwargs)  # type: ignore[arg-type]
    err = info.value
    msg = str(err)
    assert "\n" not in msg and "\r" not in msg, msg
    assert msg.startswith(f"{expected}: "), msg
    assert msg == f"{err.name}: {err.problem}; {err.fix}" and ";" not in err.problem + err.fix, msg
    assert any(word in err.fix.lower() for word in HINT_WORDS), msg
    assert fragment.lower() in msg.lower(), msg
    return err


def assert_rgb(result: LoadedImage, height: int, width: int) -> np.ndarray:
    px = result.pixels
    assert isinstance(px, np.ndarray) and px.dtype == np.uint8
    assert px.shape == (height, width, 3)
    assert px.flags.c_contiguous and px.flags.writeable
    return px


def near(pixel: np.ndarray, colour: tuple[int, int, int], tol: int = 12) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tol))


# ----------------------------------------------------------------------------------------------------------
# Bad input: files


def _truncated_jpeg() -> bytes:
    data = encode(noisy_rgb(160, 120), "JPEG", quality=90)
    return data[: len(data) * 6 // 10]


def _truncated_png() -> bytes:
    data = encode(noisy_rgb(160, 120), "PNG")
    return data[: len(data) * 6 // 10]


def _corrupt_png_idat() -> bytes:
    data = bytearray(encode(noisy_rgb(96, 96), "PNG"))
    start = data.index(b"IDAT") + 4
    data[start + 20 : start + 60] = b"\xa5" * 40  # CRC is not checked by default; zlib then fails on decode
    return bytes(data)


BAD_FILES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    # id: (file name, builder, expected fragment of the message)
    "empty": ("empty.jpg", lambda: b"", "empty"),
    "truncated-jpeg": ("cut.jpg", _truncated_jpeg, "incomplete or damaged"),
    "truncated-png": ("cut.png", _truncated_png, "incomplete or damaged"),
    "corrupt-png-data": ("flipped.png", _corrupt_png_idat, "damaged"),
    "jpeg-header-only": ("stub.jpg", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF", "incomplete or damaged"),
    "text-named-jpg": ("notes.jpg", lambda: b"Client: J. Smith\nCrown thinning, see photo.\n" * 5, "text"),
    "html-named-png": ("page.png", lambda: b"<!DOCTYPE html><html><body>hi</body></html>", "markup"),
    "pdf-named-jpg": ("scan.jpg", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
    "random-bytes": ("blob.dat", lambda: np.random.default_rng(3).bytes(4096), "not an image format"),
    "mp4-video": ("clip.jpg", lambda: b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video"),
    "one-pixel-png": ("dot.png", lambda: encode(Image.new("RGB", (1, 1), RED), "PNG"), "1×1 px"),
    "thin-strip": (
        "strip.png",
        lambda: encode(Image.new("RGB", (500, 20), RED), "PNG"),
        "need at least 64×64",
    ),
    "tiny-gif": ("icon.gif", lambda: encode(Image.new("P", (16, 16)), "GIF"), "16×16"),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file_is_refused_with_a_one_line_fix(tmp_path: Path, case: str) -> None:
    filename, build, fragment = BAD_FILES[case]
    path = write(tmp_path, filename, build())
    assert_refused(path, filename, fragment=fragment)
    # The same bytes uploaded (no path) are refused the same way under the name the app passes.
    assert_refused(path.read_bytes(), filename, fragment=fragment, name=filename)


def test_missing_path(tmp_path: Path) -> None:
    err = assert_refused(tmp_path / "nope.jpg", "nope.jpg", fragment="not found")
    assert "check the path" in err.fix


def test_directory_path(tmp_path: Path) -> None:
    folder = tmp_path / "client_042"
    folder.mkdir()
    assert_refused(folder, "client_042", fragment="folder")
    assert_refused(str(folder), "client_042", fragment="folder")  # str paths too


def test_declared_huge_png_is_refused_before_decoding(tmp_path: Path) -> None:
    # 20000 x 20000 = 400 MP declared in a ~100-byte file. Pillow's own guard raises DecompressionBombError
    # in Image.open (above 2 x its 89 MP default); it must surface as our one-line ImageError, quickly.
    path = write(tmp_path, "bomb.png", declared_png(20_000, 20_000))
    start = time.perf_counter()
    assert_refused(path, "bomb.png", fragment="megapixel")
    assert time.perf_counter() - start < 0.5


def test_declared_large_png_between_pillow_limits_hits_our_guard_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 12000 x 9000 = 108 MP: over our 100 MP, under Pillow's error threshold (Pillow only warns). Decoding is
    # made impossible so the test proves the refusal comes from the header alone; no warning may leak.
    def no_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded before the size check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    path = write(tmp_path, "big.png", declared_png(12_000, 9_000))
    err = assert_refused(path, "big.png", fragment="12000×9000")
    assert "100 megapixels" in err.fix


def test_pixel_limit_applies_to_real_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sio, "MAX_PIXELS", 100 * 100 - 1)
    path = write(tmp_path, "ok.png", encode(Image.new("RGB", (100, 100), RED), "PNG"))
    assert_refused(path, "ok.png", fragment="megapixel")
    assert_refused(np.zeros((100, 100, 3), np.uint8), "<array>", fragment="megapixel")


def test_heic_without_pillow_heif_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sio, "_heif_available", lambda: False)
    # Recognised by content (ftyp brand), whatever the name...
    path = write(
        tmp_path, "IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    )
    err = assert_refused(path, "IMG_0001.HEIC", fragment="HEIC")
    assert "pip install 'smpvision[heif]'" in str(err)
    assert_refused(path.read_bytes(), "upload", name="upload", fragment="pip install 'smpvision[heif]'")
    # ...and by name when the content is not recognisable at all.
    odd = write(tmp_path, "odd.heic", np.random.default_rng(1).bytes(512))
    assert_refused(odd, "odd.heic", fragment="pillow-heif")


def test_message_stays_one_line_for_hostile_names() -> None:
    err = assert_refused(b"", "bad?name.jpg", name="bad\nname.jpg", fragment="empty")
    assert err.name == "bad?name.jpg"


def test_error_is_a_value_error_and_survives_pickling() -> None:
    err = ImageError("a.jpg", "the file is empty (0 bytes)", "upload the photo again")
    assert isinstance(err, ValueError)
    clone = pickle.loads(pickle.dumps(err))
    assert str(clone) == str(err) == "a.jpg: the file is empty (0 bytes); upload the photo again"
    assert ImageError("b.png", "Pillow said: x; y", "retry").problem == "Pillow said: x, y"
    assert (clone.name, clone.problem, clone.fix) == (err.name, err.problem, err.fix)


def test_bad_arguments_are_programming_errors_not_image_errors() -> None:
    with pytest.raises(TypeError):
        load_image(12345)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_side"):
        load_image(np.zeros((64, 64), np.uint8), max_side=0)


# ----------------------------------------------------------------------------------------------------------
# Bad input: arrays


BAD_ARRAYS: dict[str, tuple[np.ndarray, str]] = {
    "zero-size": (np.zeros((0, 0, 3), np.uint8), "empty"),
    "zero-width": (np.zeros((64, 0), np.uint8), "empty"),
    "int32": (np.zeros((64, 64, 3), np.int32), "int32"),
    "bool-mask": (np.zeros((64, 64), bool), "bool"),
    "float-0-255": (np.full((64, 64, 3), 200.0, np.float32), "[0, 1]"),
    "float-nan": (np.full((64, 64, 3), np.nan, np.float64), "NaN"),
    "channels-first": (np.zeros((3, 64, 64), np.uint8), "transpose"),
    "two-channels": (np.zeros((64, 64, 2), np.uint8), "shape"),
    "4d-batch": (np.zeros((1, 64, 64, 3), np.uint8), "shape"),
    "1d": (np.zeros(4096, np.uint8), "shape"),
    "too-small": (np.zeros((10, 10, 3), np.uint8), "10×10 px"),
}


@pytest.mark.parametrize("case", list(BAD_ARRAYS), ids=list(BAD_ARRAYS))
def test_bad_array_is_refused(case: str) -> None:
    arr, fragment = BAD_ARRAYS[case]
    assert_refused(arr, "<array>", fragment=fragment)
    assert_refused(arr, "frame_7", name="frame_7", fragment=fragment)


# ----------------------------------------------------------------------------------------------------------
# Odd but valid files


def test_sixteen_bit_grey_png_is_shifted_not_stretched(tmp_path: Path) -> None:
    # Fixed >> 8: a dark 16-bit photo must stay dark (skin tone is read from absolute lightness).
    arr = np.zeros((64, 96), np.uint16)
    arr[:, :32], arr[:, 32:64], arr[:, 64:] = 0x1000, 0x8000, 0xFFFF
    path = write(tmp_path, "scan16.png", encode(Image.fromarray(arr), "PNG"))
    assert Image.open(path).mode.startswith("I")
    px = assert_rgb(load_image(path), 64, 96)
    assert px[0, 0].tolist() == [16, 16, 16]
    assert px[0, 40].tolist() == [128, 128, 128]
    assert px[0, 90].tolist() == [255, 255, 255]


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = write(
        tmp_path, "print.jpg", encode(Image.new("CMYK", (80, 64), (0, 255, 255, 0)), "JPEG", quality=95)
    )
    result = load_image(path)
    px = assert_rgb(result, 64, 80)
    assert near(px[32, 40], (255, 0, 0), tol=20)  # red, not its inverse (cyan)
    assert result.format == "JPEG"


def test_rgba_png_composites_on_white(tmp_path: Path) -> None:
    arr = np.zeros((64, 64, 4), np.uint8)
    arr[:, :32] = (255, 0, 0, 128)  # half-transparent red
    arr[:, 32:] = (0, 0, 0, 0)  # fully transparent (stored black): must show white, not black
    path = write(tmp_path, "cutout.png", encode(Image.fromarray(arr, "RGBA"), "PNG"))
    px = assert_rgb(load_image(path), 64, 64)
    assert near(px[10, 10], (255, 127, 127), tol=2)
    assert px[10, 50].tolist() == [255, 255, 255]


def test_la_png(tmp_path: Path) -> None:
    arr = np.zeros((64, 64, 2), np.uint8)
    arr[:, :32] = (0, 255)  # opaque black
    arr[:, 32:] = (0, 0)  # transparent
    path = write(tmp_path, "grey_alpha.png", encode(Image.fromarray(arr, "LA"), "PNG"))
    px = assert_rgb(load_image(path), 64, 64)
    assert px[5, 5].tolist() == [0, 0, 0]
    assert px[5, 60].tolist() == [255, 255, 255]


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (64, 64), 1)
    im.putpalette([0, 0, 0] + list(BLUE) + [0, 0, 0] * 254)
    im.paste(0, (0, 0, 32, 64))  # index 0 is transparent
    path = write(tmp_path, "palette.png", encode(im, "PNG", transparency=0))
    px = assert_rgb(load_image(path), 64, 64)
    assert px[5, 5].tolist() == [255, 255, 255]
    assert px[5, 60].tolist() == list(BLUE)


def test_rgb_png_with_trns_colour_key(tmp_path: Path) -> None:
    im = Image.new("RGB", (64, 64), RED)
    im.paste((0, 255, 0), (0, 0, 32, 64))
    path = write(tmp_path, "keyed.png", encode(im, "PNG", transparency=(0, 255, 0)))
    px = assert_rgb(load_image(path), 64, 64)
    assert px[5, 5].tolist() == [255, 255, 255]
    assert px[5, 60].tolist() == list(RED)


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grey_and_bilevel_png(tmp_path: Path, mode: str) -> None:
    im = Image.new(mode, (64, 64), 0)
    im.paste(255 if mode == "L" else 1, (0, 0, 64, 32))
    path = write(tmp_path, f"{mode}.png", encode(im, "PNG"))
    px = assert_rgb(load_image(path), 64, 64)
    assert px[5, 5].tolist() == [255, 255, 255]
    assert px[60, 5].tolist() == [0, 0, 0]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"], ids=["gif", "webp", "apng"])
def test_animated_uses_first_frame(tmp_path: Path, fmt: str) -> None:
    frames = [Image.new("RGB", (72, 64), RED), Image.new("RGB", (72, 64), BLUE)]
    extra = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **extra)
    path = write(tmp_path, f"anim.{fmt.lower()}", data)
    assert getattr(Image.open(path), "n_frames", 1) == 2
    result = load_image(path)
    px = assert_rgb(result, 64, 72)
    assert near(px[32, 36], RED, tol=8), px[32, 36]
    assert result.format == fmt


def test_exif_orientation_6_rotates_and_swaps_size(tmp_path: Path) -> None:
    # Stored 80 wide x 64 high with a red top-left corner. Orientation 6 = "rotate 90° clockwise to view":
    # the stored top-left corner is shown at the top-right, and the photo is 64 wide x 80 high.
    im = Image.new("RGB", (80, 64), GREY)
    im.paste(RED, (0, 0, 16, 16))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(tmp_path, "phone.jpg", encode(im, "JPEG", quality=95, exif=exif.tobytes()))
    result = load_image(path)
    assert (result.width, result.height) == (64, 80)
    px = assert_rgb(result, 80, 64)
    assert near(px[4, 60], RED, tol=30), px[4, 60]  # top-right
    assert near(px[4, 4], GREY, tol=10) and near(px[76, 60], GREY, tol=10)
    assert result.decode_scale == 1.0


@pytest.fixture
def draft_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Records (original size, size after draft) of every JPEG draft() call."""
    calls: list[tuple[tuple[int, int], tuple[int, int]]] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        before = self.size
        out = original(self, mode, size)
        calls.append((before, self.size))
        return out

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return calls


def _large_jpeg(width: int, height: int, **kwargs: object) -> bytes:
    # Left half red, right half blue: cheap to build and easy to check after reduction.
    arr = np.empty((height, width, 3), np.uint8)
    arr[:, : width // 2], arr[:, width // 2 :] = RED, BLUE
    return encode(Image.fromarray(arr, "RGB"), "JPEG", quality=85, **kwargs)


def test_large_jpeg_uses_draft_decoding(tmp_path: Path, draft_calls: list) -> None:
    data = _large_jpeg(4000, 3000)
    path = write(tmp_path, "dslr.jpg", data)
    result = load_image(path, max_side=1024)
    # libjpeg decoded straight at 1/4: 1000 px is within the draft slack (>= 80 % of 1024), so no resize
    px = assert_rgb(result, 750, 1000)
    assert (result.width, result.height) == (4000, 3000)  # the full photo, not the decoded size
    assert result.decode_scale == pytest.approx(1000 / 4000)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert draft_calls == [((4000, 3000), (1000, 750))]
    assert near(px[375, 100], RED) and near(px[375, 900], BLUE)


def test_large_jpeg_draft_then_shrinks_to_max_side(tmp_path: Path, draft_calls: list) -> None:
    path = write(tmp_path, "phone.jpg", _large_jpeg(3000, 2000))
    result = load_image(path, max_side=1024)
    # 1/4 (750 px) would fall below 80 % of the target: libjpeg decodes at 1/2, a box filter finishes
    px = assert_rgb(result, 683, 1024)
    assert result.decode_scale == pytest.approx(1024 / 3000)
    assert draft_calls == [((3000, 2000), (1500, 1000))]
    assert near(px[340, 100], RED) and near(px[340, 900], BLUE)


def test_rotated_large_jpeg_reports_upright_full_size(tmp_path: Path, draft_calls: list) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(tmp_path, "portrait.jpg", _large_jpeg(2400, 1600, exif=exif.tobytes()))
    result = load_image(path, max_side=600)
    assert (result.width, result.height) == (1600, 2400)
    px = assert_rgb(result, 600, 400)
    assert draft_calls == [((2400, 1600), (600, 400))]  # 1/4 lands exactly on the target
    # Stored left (red) becomes the top after a clockwise turn.
    assert near(px[50, 200], RED) and near(px[550, 200], BLUE)


def test_max_side_none_keeps_full_resolution(tmp_path: Path, draft_calls: list) -> None:
    path = write(tmp_path, "full.jpg", _large_jpeg(2100, 300))
    result = load_image(path, max_side=None)
    assert_rgb(result, 300, 2100)
    assert result.decode_scale == 1.0 and draft_calls == []
    result = load_image(path)  # default 2048: a 2100-wide JPEG cannot use 1/2 (1050 < 2048); plain resize
    assert_rgb(result, 293, 2048)
    assert result.width == 2100 and result.decode_scale == pytest.approx(2048 / 2100)


def test_large_png_is_reduced_after_decoding(tmp_path: Path) -> None:
    path = write(tmp_path, "wide.png", encode(Image.new("RGB", (1000, 400), RED), "PNG"))
    result = load_image(path, max_side=250)
    px = assert_rgb(result, 100, 250)
    assert (result.width, result.height) == (1000, 400) and result.decode_scale == 0.25
    assert px[50, 125].tolist() == list(RED)


def test_lossy_webp(tmp_path: Path) -> None:
    path = write(tmp_path, "shot.webp", encode(Image.new("RGB", (96, 64), BLUE), "WEBP", quality=80))
    result = load_image(path)
    px = assert_rgb(result, 64, 96)
    assert near(px[32, 48], BLUE, tol=15) and result.format == "WEBP"


def test_lab_tiff(tmp_path: Path) -> None:
    im = Image.new("LAB", (64, 64), (255, 128, 128))  # L*=100, a*=b*=0: white
    im.paste((128, 128, 128), (0, 0, 32, 64))  # L*≈50: mid grey (sRGB ≈ 119)
    path = write(tmp_path, "lab.tif", encode(im, "TIFF"))
    px = assert_rgb(load_image(path), 64, 64)
    assert near(px[5, 60], (255, 255, 255), tol=3)
    assert near(px[5, 5], (119, 119, 119), tol=6)


def test_heic_when_pillow_heif_is_installed(tmp_path: Path) -> None:
    pytest.importorskip("pillow_heif", reason="pillow-heif not installed (optional extra smpvision[heif])")
    assert sio._heif_available()
    try:
        data = encode(Image.new("RGB", (96, 64), RED), "HEIF", quality=90)
    except (KeyError, OSError, ValueError) as exc:
        pytest.skip(f"this libheif build cannot encode HEIC test files: {exc}")
    path = write(tmp_path, "IMG_1234.HEIC", data)
    result = load_image(path)
    px = assert_rgb(result, 64, 96)
    assert near(px[32, 48], RED, tol=20) and result.format == "HEIF"


def test_bytes_and_path_give_the_same_result(tmp_path: Path) -> None:
    data = encode(noisy_rgb(90, 70), "PNG")
    path = write(tmp_path, "same.png", data)
    from_path, from_bytes = load_image(path), load_image(data)
    assert from_path.name == "same.png" and from_bytes.name == "<bytes>"
    assert load_image(bytearray(data), name="upload.png").name == "upload.png"
    assert from_path.sha256 == from_bytes.sha256 == hashlib.sha256(data).hexdigest()
    np.testing.assert_array_equal(from_path.pixels, from_bytes.pixels)
    np.testing.assert_array_equal(from_path.pixels, np.asarray(Image.open(path)))  # lossless: exact


# ----------------------------------------------------------------------------------------------------------
# Arrays and PIL images


def test_good_arrays() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (64, 80, 3), dtype=np.uint8)
    result = load_image(rgb)
    np.testing.assert_array_equal(result.pixels, rgb)
    assert result.pixels is not rgb and not np.shares_memory(result.pixels, rgb)  # caller's array is safe
    assert result.sha256 == hashlib.sha256(rgb.tobytes()).hexdigest() and result.format is None

    grey = load_image(np.full((64, 70), 77, np.uint8)).pixels
    assert grey.shape == (64, 70, 3) and np.all(grey == 77)
    assert np.all(load_image(np.full((64, 70, 1), 9, np.uint8)).pixels == 9)

    rgba = np.zeros((64, 64, 4), np.uint8)  # fully transparent → white
    assert np.all(load_image(rgba).pixels == 255)

    assert np.all(load_image(np.full((64, 64, 3), 0x8000, np.uint16)).pixels == 128)
    assert np.all(load_image(np.full((64, 64), 0.5, np.float32)).pixels == 128)

    big = load_image(np.zeros((300, 200, 3), np.uint8), max_side=100)
    assert_rgb(big, 100, 67)
    assert (big.width, big.height) == (200, 300) and big.decode_scale == pytest.approx(67 / 200)
    non_contiguous = np.zeros((128, 128, 3), np.uint8)[::2, ::2]
    assert load_image(non_contiguous).pixels.flags.c_contiguous


PIL_MODES: dict[str, Callable[[], Image.Image]] = {
    "YCbCr": lambda: Image.new("RGB", (64, 64), RED).convert("YCbCr"),
    "HSV": lambda: Image.new("RGB", (64, 64), RED).convert("HSV"),
    "CMYK": lambda: Image.new("RGB", (64, 64), RED).convert("CMYK"),
    "P": lambda: Image.new("RGB", (64, 64), RED).convert("P", palette=Image.Palette.ADAPTIVE),
    "PA": lambda: Image.new("RGBA", (64, 64), (*RED, 255)).convert("PA"),
    "RGBa": lambda: Image.new("RGBA", (64, 64), (*RED, 255)).convert("RGBa"),
    "F": lambda: Image.fromarray(np.full((64, 64), 0.25, np.float32)),
    "I": lambda: Image.fromarray(np.full((64, 64), 40_000, np.int32)),
    "I;16B": lambda: Image.new("I;16B", (64, 64), 0x4000),
    "La": lambda: Image.new("LA", (64, 64), (200, 255)).convert("La"),
}
PIL_EXPECTED = {"F": (64, 64, 64), "I": (156, 156, 156), "I;16B": (64, 64, 64), "La": (200, 200, 200)}


@pytest.mark.parametrize("mode", list(PIL_MODES), ids=list(PIL_MODES))
def test_every_pillow_mode_becomes_rgb(mode: str) -> None:
    im = PIL_MODES[mode]()
    assert im.mode == mode
    result = load_image(im)
    px = assert_rgb(result, 64, 64)
    assert near(px[32, 32], PIL_EXPECTED.get(mode, RED), tol=10), (mode, px[32, 32])
    assert im.mode == mode and im.size == (64, 64)  # the caller's image is untouched


def test_pil_image_with_exif_orientation_is_rotated(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° counter-clockwise to view
    im = Image.new("RGB", (96, 64), GREY)
    im.paste(RED, (0, 0, 16, 16))
    path = write(tmp_path, "ccw.jpg", encode(im, "JPEG", quality=95, exif=exif.tobytes()))
    with Image.open(path) as opened:
        result = load_image(opened)
    assert result.name == "ccw.jpg" and (result.width, result.height) == (64, 96)
    assert near(assert_rgb(result, 96, 64)[90, 4], RED, tol=30)  # stored top-left → bottom-left


# ----------------------------------------------------------------------------------------------------------
# PNG output without metadata


def test_png_bytes_carry_no_metadata(tmp_path: Path) -> None:
    # A phone photo with GPS position, camera make and a comment: none of it may reach an overlay PNG.
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0132] = "2024:05:01 10:00:00"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    path = write(
        tmp_path, "gps.jpg", encode(noisy_rgb(80, 64), "JPEG", exif=exif.tobytes(), comment=b"client")
    )
    assert Image.open(path).getexif()  # the source really has EXIF
    pixels = load_image(path).pixels

    data = image_to_png_bytes(pixels)
    assert set(png_chunk_types(data)) == {b"IHDR", b"IDAT", b"IEND"}
    for forbidden in (b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"tIME", b"Exif", b"PhoneMaker"):
        assert forbidden not in data
    with Image.open(io.BytesIO(data)) as back:
        assert back.info == {} and len(back.getexif()) == 0
        np.testing.assert_array_equal(np.asarray(back), pixels)

    assert png_chunk_types(image_to_png_bytes(np.zeros((8, 8), np.uint8)))[0] == b"IHDR"
    assert Image.open(io.BytesIO(image_to_png_bytes(np.zeros((8, 8, 4), np.uint8)))).mode == "RGBA"
    with pytest.raises(ValueError):
        image_to_png_bytes(np.zeros((8, 8, 3), np.float32))


def test_min_side_constant_matches_message() -> None:
    assert_refused(np.zeros((MIN_SIDE - 1, 200, 3), np.uint8), "<array>", fragment=f"{MIN_SIDE}×{MIN_SIDE}")
    assert_rgb(load_image(np.zeros((MIN_SIDE, MIN_SIDE, 3), np.uint8)), MIN_SIDE, MIN_SIDE)
