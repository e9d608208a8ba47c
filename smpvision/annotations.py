"""The annotated-photo folder format of DESIGN.md: what the renderer writes and what clinics label.

Layout::

    DIR/images/NAME.{jpg,jpeg,png}   the photo (any Pillow mode; EXIF orientation is honoured)
    DIR/zones/NAME.png               single-channel uint8 class ids 0..4, 255 = unlabelled / ignore
    DIR/labels/NAME.json             optional; {hairs, mm_per_px, view, skin, hair, scars, pattern},
                                     null = unknown

Hair points are ``[x, y]`` in pixels of the (EXIF-rotated) image with pixel centres at integer
coordinates, so ``zones[round(y), round(x)]`` is the pixel a point falls on; a point is inside the image
when ``-0.5 <= x <= W - 0.5`` and ``-0.5 <= y <= H - 0.5``.

Rendered and real photos go through this one module so that fine-tuning on a clinic's photos is the same
code path as training on synthetic ones. Every problem is an :class:`AnnotationError` whose one-line
message names the file and says the fix, because the people who hit them are labelling photos, not
reading tracebacks.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from smpvision.contracts import IGNORE_INDEX, IMAGE_EXTENSIONS, ZONE_CLASSES

# Every field DESIGN.md lists for labels/NAME.json; a missing file or key means "unknown" (None).
LABEL_FIELDS: tuple[str, ...] = ("hairs", "mm_per_px", "view", "skin", "hair", "scars", "pattern")

VALID_MASK_VALUES: frozenset[int] = frozenset([*range(len(ZONE_CLASSES)), IGNORE_INDEX])

# Modes whose pixels are class ids as they stand ("P" = palette PNG, the usual export of labelling tools).
_SINGLE_CHANNEL_MODES = ("L", "P", "I", "I;16", "1")


class AnnotationError(ValueError):
    """A problem with an annotated-photo folder; the message is one line naming the file and the fix."""


@dataclass(frozen=True)
class AnnotatedSample:
    """One photo of an annotated folder, decoded."""

    name: str
    image: np.ndarray  # (H, W, 3) uint8 RGB, EXIF orientation applied
    zones: np.ndarray  # (H, W) uint8 class ids, IGNORE_INDEX where unlabelled
    label: dict[str, Any]  # every LABEL_FIELDS key present; None where unknown


def empty_label() -> dict[str, Any]:
    """A label with every field unknown: what a photo without labels/NAME.json gets."""
    return dict.fromkeys(LABEL_FIELDS)


# --------------------------------------------------------------------------------------------- writing


def write_sample(
    out_dir: str | Path,
    name: str,
    image: np.ndarray,
    zones: np.ndarray,
    label: Mapping[str, Any],
) -> None:
    """Write one sample as images/NAME.png, zones/NAME.png and labels/NAME.json under ``out_dir``.

    Output bytes depend only on the inputs (PNG without timestamps, sorted JSON), so two renders from the
    same seed produce identical folders and a dataset can be checked by hashing it.
    """
    out = Path(out_dir)
    if not name or Path(name).name != name or name.startswith("."):
        raise AnnotationError(f"sample name {name!r} is not a plain file name; use letters, digits, _ and -")
    image = np.asarray(image)
    zones = np.asarray(zones)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise AnnotationError(
            f"{name}: image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}; convert it first"
        )
    if zones.dtype != np.uint8 or zones.shape != image.shape[:2]:
        raise AnnotationError(
            f"{name}: zones must be {image.shape[:2]} uint8 to match the image, got {zones.shape} "
            f"{zones.dtype}; render the mask at the image size"
        )
    _check_mask_values(zones, f"{name} zones")
    clean = _normalise_label(label)
    _check_label(clean, width=image.shape[1], height=image.shape[0], where=f"{name} label")

    for sub in ("images", "zones", "labels"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    # compress_level is pinned so the bytes do not change if Pillow's default ever does.
    Image.fromarray(np.ascontiguousarray(image)).save(out / "images" / f"{name}.png", compress_level=6)
    Image.fromarray(np.ascontiguousarray(zones)).save(out / "zones" / f"{name}.png", compress_level=6)
    (out / "labels" / f"{name}.json").write_text(dumps_label(clean), encoding="utf-8")


def dumps_label(label: Mapping[str, Any]) -> str:
    """Sorted JSON with one top-level key per line: diff-able, yet hair lists stay on one line each."""
    items = [
        f"  {json.dumps(key)}: {json.dumps(label[key], sort_keys=True, default=_json_default)}"
        for key in sorted(label)
    ]
    return "{\n" + ",\n".join(items) + "\n}\n"


def _normalise_label(label: Mapping[str, Any]) -> dict[str, Any]:
    out = empty_label()
    out.update(label)
    hairs = out["hairs"]
    if hairs is not None:
        try:
            pts = np.asarray(hairs, dtype=np.float64).reshape(-1, 2) if len(hairs) else np.zeros((0, 2))
        except (TypeError, ValueError) as exc:
            raise AnnotationError(f"label hairs must be a list of [x, y] pairs: {exc}") from None
        # Two decimals (1/100 px) is far below labelling precision and keeps files small.
        out["hairs"] = [[round(float(x), 2), round(float(y), 2)] for x, y in pts]
    return out


def _json_default(obj: Any) -> Any:
    # The renderer works in numpy; accept its scalars and arrays rather than make every caller convert.
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"label value of type {type(obj).__name__} is not JSON-serialisable")


# --------------------------------------------------------------------------------------------- reading


class AnnotatedFolder:
    """Read-only view of an annotated-photo folder; photos are decoded lazily, one per access."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        images_dir = self.path / "images"
        if not self.path.is_dir():
            raise AnnotationError(f"{self.path}: folder not found; pass a folder that contains images/")
        if not images_dir.is_dir():
            raise AnnotationError(
                f"{self.path}: no images/ subfolder; put photos in {images_dir} and masks in "
                f"{self.path / 'zones'}"
            )
        self._image_paths: dict[str, Path] = {}
        for p in sorted(images_dir.iterdir()):
            if not p.is_file() or p.suffix.lower() not in IMAGE_EXTENSIONS or p.name.startswith("."):
                continue
            if p.stem in self._image_paths:
                raise AnnotationError(
                    f"{p}: two images named {p.stem!r} ({self._image_paths[p.stem].name} and {p.name}); "
                    "rename or remove one"
                )
            self._image_paths[p.stem] = p
        if not self._image_paths:
            raise AnnotationError(
                f"{images_dir}: no images found; add {'/'.join(IMAGE_EXTENSIONS)} photos to it"
            )
        # Checked up front: a missing mask is the commonest labelling slip, and finding it after an
        # hour of training is worse than refusing the folder now.
        for name in self._image_paths:
            mask_path = self.path / "zones" / f"{name}.png"
            if not mask_path.is_file():
                raise AnnotationError(
                    f"{self._image_paths[name]}: no zones mask; add {mask_path} (uint8 class ids, "
                    f"255 = unlabelled) or remove the image"
                )
        self.names: list[str] = list(self._image_paths)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> AnnotatedSample:
        return self.load(self.names[index])

    def __iter__(self) -> Iterator[AnnotatedSample]:
        for name in self.names:
            yield self.load(name)

    def __repr__(self) -> str:
        return f"AnnotatedFolder({str(self.path)!r}, {len(self)} photos)"

    def load(self, name: str) -> AnnotatedSample:
        """Decode and validate one photo, its mask and its (optional) label."""
        if name not in self._image_paths:
            raise KeyError(f"{name!r} is not in {self.path / 'images'}")
        image_path = self._image_paths[name]
        image = _read_image(image_path)
        zones = _read_mask(self.path / "zones" / f"{name}.png")
        if zones.shape != image.shape[:2]:
            h, w = image.shape[:2]
            mh, mw = zones.shape
            raise AnnotationError(
                f"{self.path / 'zones' / f'{name}.png'}: mask is {mw}x{mh} px but {image_path.name} is "
                f"{w}x{h} px; resize the mask (nearest-neighbour) to the image size"
            )
        label_path = self.path / "labels" / f"{name}.json"
        label = _read_label(label_path) if label_path.is_file() else empty_label()
        _check_label(label, width=image.shape[1], height=image.shape[0], where=str(label_path))
        return AnnotatedSample(name=name, image=image, zones=zones, label=label)


def _open(path: Path, what: str) -> Image.Image:
    try:
        img = Image.open(path)
        img.load()  # decode now, so a truncated file fails here with its name rather than later
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AnnotationError(f"{path}: cannot read {what} ({exc}); re-export it as PNG or JPEG") from None
    # Phones store portrait photos sideways plus an EXIF tag; labels are drawn on the upright view.
    return ImageOps.exif_transpose(img)


def _read_image(path: Path) -> np.ndarray:
    img = _open(path, "image")
    if img.mode != "RGB":
        # RGBA/LA: drop alpha; P/L/I/CMYK: expand. Photos of scalps carry no meaning in alpha.
        img = img.convert("RGBA").convert("RGB") if "A" in img.mode or img.mode == "P" else img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def _read_mask(path: Path) -> np.ndarray:
    img = _open(path, "zones mask")
    if img.mode not in _SINGLE_CHANNEL_MODES:
        raise AnnotationError(
            f"{path}: mask has mode {img.mode} ({len(img.getbands())} channels) but must be single-channel; "
            "save class ids 0..4 (255 = unlabelled) as an 8-bit greyscale PNG"
        )
    # For "P" this reads the palette indices, which are the class ids in label-tool exports.
    raw = np.asarray(img)
    _check_mask_values(raw, str(path))
    return raw.astype(np.uint8)


def _check_mask_values(mask: np.ndarray, where: str) -> None:
    values = np.unique(mask)
    bad = [int(v) for v in values if int(v) not in VALID_MASK_VALUES]
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (", ..." if len(bad) > 10 else "")
        raise AnnotationError(
            f"{where}: mask values {shown} are not class ids; use 0..{len(ZONE_CLASSES) - 1} "
            f"({', '.join(ZONE_CLASSES)}) or {IGNORE_INDEX} for unlabelled"
        )


def _read_label(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: malformed JSON ({exc}); fix the file or delete it") from None
    if not isinstance(data, dict):
        raise AnnotationError(f"{path}: top level must be a JSON object {{...}}, got {type(data).__name__}")
    label = empty_label()
    label.update(data)
    return label


def _check_label(label: Mapping[str, Any], width: int, height: int, where: str) -> None:
    hairs = label.get("hairs")
    if hairs is None:
        return
    if not isinstance(hairs, list):
        raise AnnotationError(
            f"{where}: hairs must be a list of [x, y] pairs (or null), got {type(hairs).__name__}"
        )
    for i, pt in enumerate(hairs):
        ok = (
            isinstance(pt, list | tuple)
            and len(pt) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in pt)
        )
        if not ok:
            raise AnnotationError(
                f"{where}: hairs[{i}] is {pt!r}; hairs must be a list of [x, y] pairs of numbers (pixels)"
            )
        x, y = pt
        if not (-0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5):
            raise AnnotationError(
                f"{where}: hairs[{i}] = [{x}, {y}] is outside the {width}x{height} px image; points are "
                "[x, y] in pixels of the upright image (check for swapped x/y or a resized photo)"
            )
