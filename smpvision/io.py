"""Load any photo a technician uploads into an RGB uint8 array, or refuse it with a one-line, fixable error.

Everything downstream (segmenter, analysis, report) assumes ``(H, W, 3)`` uint8 RGB, upright, of a sane
size. This module is the only place that deals with file formats, Pillow modes, EXIF orientation, HEIC and
hostile input, so nothing else has to. Errors are :class:`ImageError` with a message of the form
``"<name>: <what is wrong>; <what to do>"`` on one line: the CLI prints it as is, the app shows it to the
technician, the assessment JSON stores it in ``error``. Callers never see a Pillow traceback.

Photos of patients are sensitive: :func:`image_to_png_bytes` writes PNGs with no metadata at all, so
overlays and reports never carry the original photo's EXIF (GPS position, device serial, timestamps).
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError

__all__ = [
    "MAX_PIXELS",
    "MIN_SIDE",
    "ImageError",
    "LoadedImage",
    "image_to_png_bytes",
    "load_image",
]

MIN_SIDE = 64  # below this there is no scalp texture left to analyse (and the model's pooling breaks down)
# Decompression-bomb guard on the declared size, checked on the header before any pixel is decoded. 100 MP is
# above any phone or DSLR photo (the largest phone sensors are 50-200 MP but save 12-50 MP by default).
MAX_PIXELS = 100_000_000

# What a technician can always do: the two formats every phone, camera and editor can export.
_EXPORT_HINT = "export or save the photo as JPEG or PNG and upload that"
_HEIF_INSTALL_HINT = "HEIC photos need the optional pillow-heif package: pip install 'smpvision[heif]'"
_HEIF_EXTENSIONS = {".heic", ".heif", ".hif"}
# ISO-BMFF major brands of HEIF/HEIC stills and sequences (bytes 8..12 after the "ftyp" box type).
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
# What the loader reads; the batch CLI picks files out of folders by these too.
PHOTO_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".gif",
        ".webp",
        ".tif",
        ".tiff",
        ".bmp",
    }
    | _HEIF_EXTENSIONS
)
_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N"}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


class ImageError(ValueError):
    """A photo that cannot be used. ``str(e)`` is one line: ``"<name>: <what is wrong>; <what to do>"``.

    ``name``, ``problem`` and ``fix`` are also kept separately so the app can lay them out.
    """

    def __init__(self, name: str, problem: str, fix: str) -> None:
        # A file name may legally contain a newline; messages from Pillow may too. Either would break the
        # "one line per photo" promise of the CLI and the JSON, so both are flattened here.
        self.name = "".join(c if c.isprintable() else "?" for c in str(name))
        # ";" separates problem from fix, so a Pillow message quoted in the problem must not contain one.
        self.problem = " ".join(str(problem).replace(";", ",").split())
        self.fix = " ".join(str(fix).split())
        super().__init__(f"{self.name}: {self.problem}; {self.fix}")

    def __reduce__(self) -> tuple[type[ImageError], tuple[str, str, str]]:
        # Exceptions are pickled as cls(*args); ours takes three arguments, not the formatted message.
        # Needed when a batch run loads photos in worker processes.
        return (type(self), (self.name, self.problem, self.fix))


@dataclass
class LoadedImage:
    """A decoded photo and what is known about the file it came from."""

    pixels: np.ndarray  # (H, W, 3) uint8 RGB, C-contiguous, EXIF orientation applied
    name: str  # file name (or the name passed in)
    width: int  # of the full-resolution photo after EXIF orientation
    height: int
    sha256: str  # hex sha256 of the file's bytes (of the array's bytes for array input)
    decode_scale: float  # pixels.shape[1] / width: < 1 when the photo was decoded smaller (JPEG draft/resize)
    format: str | None  # Pillow format name ("JPEG", "PNG", "HEIF", ...); None for arrays


def load_image(
    source: str | os.PathLike[str] | bytes | np.ndarray | Image.Image,
    *,
    name: str | None = None,
    max_side: int | None = 2048,
) -> LoadedImage:
    """Decode ``source`` into upright RGB uint8 pixels whose long side is at most ``max_side``.

    ``source`` is a path, the bytes of an encoded file, a numpy array (RGB channel order, not OpenCV's BGR)
    or a Pillow image. ``name`` is what error messages and the result call the photo (default: the file
    name). ``max_side=None`` keeps full resolution; otherwise large JPEGs are decoded directly at 1/2, 1/4
    or 1/8 scale (several times faster than a full decode; possibly to as little as DRAFT_SLACK of
    ``max_side`` when that saves the resize) and anything still larger is shrunk with an area filter.
    ``width``/``height`` of the result always describe the full-resolution photo.

    Raises :class:`ImageError` (one line, names the photo, says the fix) for anything unusable.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels or None, not {max_side!r}")
    if isinstance(source, np.ndarray):
        return _load_array(source, name or "<array>", max_side)
    if isinstance(source, Image.Image):
        filename = getattr(source, "filename", "") or ""
        return _load_pil(source, name or (Path(filename).name if filename else "<image>"), max_side)
    if isinstance(source, bytes | bytearray | memoryview):
        return _load_encoded(bytes(source), name or "<bytes>", max_side)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = name or path.name or str(path)
        return _load_encoded(_read_file(path, label), label, max_side)
    raise TypeError(
        f"load_image() takes a path, bytes, a numpy array or a PIL image, not {type(source).__name__}"
    )


def image_to_png_bytes(pixels: np.ndarray) -> bytes:
    """Encode an (H, W), (H, W, 3) or (H, W, 4) uint8 array as a PNG that carries no metadata at all.

    Used for overlays and reports of patients' photos: a fresh image from the array has an empty ``info``,
    and nothing (exif=, pnginfo=, icc_profile=, dpi=) is passed to ``save``, so the file holds only IHDR,
    IDAT and IEND -- no eXIf, tEXt, iTXt, zTXt, iCCP, pHYs or tIME chunk.
    """
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        raise ValueError(f"need uint8 (H, W), (H, W, 3) or (H, W, 4) pixels, got {arr.dtype} {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"cannot encode an empty image of shape {arr.shape}")
    mode = "L" if arr.ndim == 2 else ("RGB" if arr.shape[2] == 3 else "RGBA")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr), mode).save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------------
# Sources


def _read_file(path: Path, label: str) -> bytes:
    # The checks come before reading so each failure gets its own fix, not a generic OSError text.
    if not path.exists():
        raise ImageError(label, f"file not found at {path}", "check the path and that the photo was copied")
    if path.is_dir():
        raise ImageError(
            label, "is a folder, not a photo", "pass the image file inside it (or use batch mode)"
        )
    try:
        return path.read_bytes()
    except PermissionError:
        raise ImageError(
            label, "cannot read the file (permission denied)", "check the file's permissions"
        ) from None
    except OSError as exc:
        raise ImageError(
            label, f"cannot read the file ({exc.strerror or exc})", "copy the photo again"
        ) from None


@functools.cache
def _heif_available() -> bool:
    """Register pillow-heif's opener once, if the optional package is installed."""
    try:
        import pillow_heif
    except ImportError:
        return False
    try:
        pillow_heif.register_heif_opener()
    except Exception:  # a broken install must not break JPEG/PNG loading; HEIC then gets the install hint
        return False
    return True


def _load_encoded(data: bytes, name: str, max_side: int | None) -> LoadedImage:
    if not data:
        raise ImageError(
            name, "the file is empty (0 bytes): the copy or upload did not finish", "upload the photo again"
        )
    sha256 = hashlib.sha256(data).hexdigest()
    heif_available = _heif_available()
    if _is_heif(data) and not heif_available:
        raise ImageError(name, "this is a HEIC/HEIF photo (the iPhone default)", _HEIF_INSTALL_HINT)

    try:
        # Image.open reads only the header. Pillow's own bomb check warns above its MAX_IMAGE_PIXELS (89 MP,
        # below ours) and raises above twice that; the warning is silenced because MAX_PIXELS below is the
        # limit that counts, and the global is left alone so other users of Pillow are unaffected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        match = re.search(r"\((\d+) pixels\)", str(exc))
        declared = f"{int(match.group(1)) / 1e6:.0f} megapixels" if match else "too many pixels"
        raise _too_large(name, f"image declares {declared}") from None
    except UnidentifiedImageError:
        if not heif_available and Path(name).suffix.lower() in _HEIF_EXTENSIONS:
            raise ImageError(name, "this is a HEIC/HEIF photo", _HEIF_INSTALL_HINT) from None
        raise _not_an_image(data, name) from None
    except (
        Exception
    ) as exc:  # plugins raise all sorts (ValueError, struct.error, RuntimeError) on bad headers
        raise _damaged(name, exc) from None

    with im:
        return _decode(im, name, sha256, max_side, allow_draft=True)


def _load_pil(im: Image.Image, name: str, max_side: int | None) -> LoadedImage:
    # The caller's image is never modified: every step below returns a new image. No draft here, because
    # draft() would change the caller's (possibly lazily loaded) image in place.
    _check_size(name, *im.size)  # before load(): a lazily opened bomb must not be decoded either
    try:
        im.load()
        sha256 = hashlib.sha256(im.tobytes()).hexdigest()
    except Exception as exc:
        raise _damaged(name, exc) from None
    return _decode(im, name, sha256, max_side, allow_draft=False)


def _load_array(arr: np.ndarray, name: str, max_side: int | None) -> LoadedImage:
    sha256 = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
    shape_hint = "pass (H, W), (H, W, 3) or (H, W, 4) pixels, channels last"
    if arr.size == 0:
        raise ImageError(name, f"array is empty (shape {arr.shape})", shape_hint)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (3, 4))):
        extra = (
            " (for (C, H, W) use arr.transpose(1, 2, 0))" if arr.ndim == 3 and arr.shape[0] in (3, 4) else ""
        )
        raise ImageError(name, f"array has shape {arr.shape}", shape_hint + extra)
    height, width = arr.shape[:2]
    _check_size(name, width, height)

    if arr.dtype == np.uint8:
        u8 = arr
    elif arr.dtype == np.uint16:
        u8 = _sixteen_to_eight(arr)
    elif arr.dtype.kind == "f":
        is_finite = np.isfinite(arr)
        finite, vals = bool(is_finite.all()), arr[is_finite]
        lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (float("nan"), float("nan"))
        if not finite or lo < 0.0 or hi > 1.0:
            got = f"{lo:.3g}..{hi:.3g}" if vals.size else "only NaN/inf"
            got += "" if finite or not vals.size else " and NaN/inf"
            raise ImageError(
                name, f"float pixels must lie in [0, 1] (got {got})", "divide by 255 (or pass uint8)"
            )
        u8 = np.round(arr * 255.0).astype(np.uint8)
    else:
        raise ImageError(
            name,
            f"array dtype {arr.dtype} is not an image type",
            "pass uint8 (or uint16, or float in [0, 1])",
        )

    if u8.ndim == 2:
        rgb = np.repeat(u8[:, :, None], 3, axis=2)
    elif u8.shape[2] == 4:
        rgb = _composite_on_white(u8)
    else:
        rgb = np.array(u8, dtype=np.uint8, copy=True)  # never hand back a view of the caller's array

    target = _target_size(width, height, max_side)
    if target != (width, height):
        rgb = np.array(_resize(Image.fromarray(rgb, "RGB"), target), dtype=np.uint8)  # writable copy
    pixels = np.ascontiguousarray(rgb, dtype=np.uint8)
    return LoadedImage(pixels, name, width, height, sha256, pixels.shape[1] / width, None)


# --------------------------------------------------------------------------------------------------------
# Decoding


def _decode(
    im: Image.Image, name: str, sha256: str, max_side: int | None, *, allow_draft: bool
) -> LoadedImage:
    header_w, header_h = im.size  # known from the header alone; nothing decoded yet for files
    _check_size(name, header_w, header_h)
    fmt = im.format

    # Only the first frame of an animated GIF/WebP/APNG (or of an MPO's picture set) is analysed; that is
    # the frame Image.open positions on, so nothing to seek.
    target_hdr = _target_size(header_w, header_h, max_side)
    if allow_draft and isinstance(im, JpegImagePlugin.JpegImageFile) and target_hdr != (header_w, header_h):
        # libjpeg decodes directly at 1/2, 1/4 or 1/8 scale; draft picks the strongest reduction whose result
        # is still at least what it is asked for. Asking for DRAFT_SLACK of the target lets a 4000-px photo
        # decode straight to 1000 px for a 1024 target (no resize at all: 23 ms instead of 28 + 13 ms);
        # the photo then is analysed a little smaller than max_side, never larger.
        slack = _target_size(header_w, header_h, max(1, round(max_side * DRAFT_SLACK)))
        try:
            im.draft("RGB", slack)
        except Exception:  # draft is an optimisation only; a full decode is always correct
            pass

    try:
        im.load()
    except Exception as exc:  # truncated/corrupt data: OSError mostly, but decoders raise other types too
        raise _damaged(name, exc) from None

    decoded_size = im.size
    try:
        upright = ImageOps.exif_transpose(im)
    except Exception:
        # Malformed EXIF is common (edited photos, broken apps); better an unrotated photo than none.
        upright = im
    # A 90-degree orientation swaps the sides; the full-resolution size is the header's, swapped likewise.
    rotated = upright.size != decoded_size
    width, height = (header_h, header_w) if rotated else (header_w, header_h)

    try:
        rgb = _to_rgb(upright)
    except Exception as exc:
        raise ImageError(
            name, f"unsupported pixel format (Pillow mode {im.mode}: {exc})", _EXPORT_HINT
        ) from None
    if max_side is not None and max(rgb.size) > max_side:  # only ever shrink (a draft may already be smaller)
        rgb = _resize(rgb, _target_size(width, height, max_side))

    pixels = np.array(rgb, dtype=np.uint8)  # a copy: owns its memory, C-contiguous, independent of Pillow
    if pixels.ndim != 3 or pixels.shape[2] != 3:  # defensive; _to_rgb always returns RGB
        raise ImageError(name, f"decoded to an unexpected shape {pixels.shape}", _EXPORT_HINT)
    return LoadedImage(pixels, name, width, height, sha256, pixels.shape[1] / width, fmt)


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB. Transparent areas become white (the colour of the page, not black)."""
    mode = im.mode
    if mode in _SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return Image.fromarray(_numeric_to_uint8(np.asarray(im), mode), "L").convert("RGB")
    if mode in _ALPHA_MODES or "transparency" in im.info:
        # P/L/RGB with a tRNS chunk (info["transparency"]) are transparent too; convert("RGBA") applies it.
        # "La" (premultiplied) has no direct path to RGBA in Pillow, so it goes through "LA".
        rgba = (im.convert("LA") if mode == "La" else im).convert("RGBA")
        return Image.fromarray(_composite_on_white(np.asarray(rgba)), "RGB")
    if mode == "RGB":
        return im
    # 1, L, P, CMYK (Pillow inverts Adobe CMYK JPEGs on decode), YCbCr, LAB, HSV: Pillow converts these
    # colorimetrically enough for our use (LAB via its built-in D65 transform).
    return im.convert("RGB")


def _numeric_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """16-bit, 32-bit integer and float pixels to uint8.

    Fixed scaling (16-bit >> 8) is used wherever the bit depth is known, NOT a stretch of the actual min..max
    range: skin tone (ITA°) and hair colour are read from absolute lightness, and stretching would brighten a
    dark photo and change the measured skin type. Only "I"/"F" data outside every known range (negative,
    above 16 bits, floats beyond 0..255) has no fixed scale, so that alone is stretched over its range.
    """
    if mode in _SIXTEEN_BIT_MODES:
        return _sixteen_to_eight(values)
    if mode == "I":
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi <= 65535:  # older Pillow opens 16-bit PNG/TIFF as "I"
            return _sixteen_to_eight(values)
        return _stretch(values.astype(np.float64))
    values = np.nan_to_num(values.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)  # "F"
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0.0 and hi <= 1.0:
        return np.round(values * 255.0).astype(np.uint8)
    if lo >= 0.0 and hi <= 255.0:
        return np.round(values).astype(np.uint8)
    return _stretch(values)


def _sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    # Data that never exceeds 255 is 8-bit data in a 16-bit container (some scanners and converters write
    # that); shifting it would turn the photo black.
    values = values.astype(np.uint32)
    if int(values.max()) <= 255:
        return values.astype(np.uint8)
    return (values >> 8).astype(np.uint8)


def _stretch(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(values.shape, np.uint8)
    return np.round((values - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _composite_on_white(rgba: np.ndarray) -> np.ndarray:
    """(H, W, 4) uint8 straight alpha over a white background, as a viewer shows a transparent PNG."""
    rgb = rgba[:, :, :3].astype(np.uint16)
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    out = (rgb * alpha + 255 * (255 - alpha) + 127) // 255
    return np.ascontiguousarray(out.astype(np.uint8))


DRAFT_SLACK = 0.8  # a JPEG may be decoded down to this share of max_side when that saves a resize


def _target_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    # Box = area averaging, the right filter for shrinking a photo we only measure (no ringing); measured
    # on a 2000x1500 draft to 1024x768: 13 ms, against 47 ms for Lanczos, which a batch pays per photo.
    return im.resize(size, Image.Resampling.BOX)


# --------------------------------------------------------------------------------------------------------
# Errors


def _check_size(name: str, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise _too_large(name, f"image declares {width}×{height} px ({width * height / 1e6:.0f} megapixels)")
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            name,
            f"image is {width}×{height} px",
            f"need at least {MIN_SIDE}×{MIN_SIDE} px: upload the original photo, not a thumbnail or icon",
        )


def _too_large(name: str, what: str) -> ImageError:
    return ImageError(
        name,
        f"{what}, over the {MAX_PIXELS / 1e6:.0f}-megapixel limit (refused before decoding)",
        f"resize it below {MAX_PIXELS / 1e6:.0f} megapixels and upload again",
    )


def _damaged(name: str, exc: BaseException) -> ImageError:
    detail = str(exc) or type(exc).__name__
    return ImageError(
        name,
        f"the image data is incomplete or damaged, probably cut short in a copy or upload ({detail})",
        "upload the photo again or re-export it",
    )


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


# Other things people upload instead of a photo, recognised by their first bytes so the message can say what
# the file actually is.
_KNOWN_NOT_IMAGES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF", 0, "a PDF document"),
    (b"PK\x03\x04", 0, "a ZIP archive (or Word/Excel document)"),
    (b"\x00\x00\x00\x0cJXL ", 0, "a JPEG XL image, which is not supported"),
    (b"\xff\x0a", 0, "a JPEG XL image, which is not supported"),
    (b"ftyp", 4, "a video or unsupported ISO-media file"),
    (b"RIFF", 0, "an unsupported RIFF file (video/audio, or a damaged WebP)"),
)


def _not_an_image(data: bytes, name: str) -> ImageError:
    suffix = Path(name).suffix.lower()
    # Mention the name only when it claims to be an image: that mismatch is the useful part.
    named = f", although it is named {suffix}" if suffix in PHOTO_EXTENSIONS else ""
    head = data[:512]
    for magic, offset, what in _KNOWN_NOT_IMAGES:
        if head[offset : offset + len(magic)] == magic:
            return ImageError(name, f"the file is {what}, not a photo{named}", _EXPORT_HINT)
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<svg", b"<?xml", b"<!doctype html", b"<html")):
        return ImageError(name, f"the file is SVG/XML/HTML markup, not a photo{named}", _EXPORT_HINT)
    if _looks_like_text(head):
        return ImageError(name, f"the file is text, not an image{named}", _EXPORT_HINT)
    return ImageError(
        name,
        f"not an image format that can be read (unknown, unsupported or damaged file){named}",
        _EXPORT_HINT,
    )


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The 512-byte cut may split a multi-byte character; one more try without the last few bytes.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return bool(text) and printable >= 0.95 * len(text)
