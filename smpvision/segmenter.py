"""ONNX Runtime wrapper around the zones + density model (no torch).

    with Segmenter.from_path() as seg:            # the bundled model
        result = seg.segment(image, view_kind="closeup")

Everything the wrapper needs (class names, the close-up scale and overview size the model was trained
at) is read from the model file's metadata, never configured by hand. Photos are brought to the scale the
model was trained at before inference, and the outputs are brought back to the photo's own size; the
density map is rescaled so that it still integrates to the hair count.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .contracts import VIEW_KINDS, ZONE_CLASSES

DEFAULT_MODEL = "smpvision-zones.onnx"
CHECKSUMS = "SHA256SUMS"  # `sha256sum` format, next to the bundled models
MIN_SIDE = 32


@dataclass
class SegmenterOptions:
    threads: int = 0  # ONNX Runtime intra-op threads; 0 lets it choose (all cores)
    overview_side: int | None = None  # long side overviews are run at; None = the model's training size
    max_closeup_side: int = 1024  # cap on a close-up's side after rescaling to the model's scale
    estimate_scale: bool = True  # estimate a close-up's mm/px from hair shaft width when not given


@dataclass
class SegmentationResult:
    zones_prob: np.ndarray  # float32 [5, H, W] class probabilities at the photo's size
    density: np.ndarray  # float32 [H, W] hairs per pixel of the photo; sums to the hair count
    mm_per_px: float | None  # the photo's scale, when given or estimated
    scale_source: str  # "given", "estimated", or "none"
    model_scale: float  # resize factor applied before inference (model px per photo px)

    @cached_property
    def zones(self) -> np.ndarray:
        """uint8 [H, W] class ids (argmax of the probabilities; cached, the analysis reads it often)."""
        return self.zones_prob.argmax(0).astype(np.uint8)

    @property
    def zone_ids(self) -> np.ndarray:
        """The MediaPipe-style name of `zones`."""
        return self.zones

    @property
    def confidence(self) -> np.ndarray:
        """float32 [H, W] probability of the chosen class: low where the model hesitates."""
        return self.zones_prob.max(0)

    @property
    def hair_count(self) -> float:
        return float(self.density.sum())


def bundled_model_path(name: str = DEFAULT_MODEL) -> Path:
    return Path(str(resources.files("smpvision") / "models" / name))


class ModelIntegrityError(RuntimeError):
    """A bundled model file does not match the checksum recorded when it was shipped."""


def write_checksums(directory: Path) -> Path:
    """(Re)write SHA256SUMS for every .onnx file in `directory`; run after shipping a new model."""
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}" for p in sorted(directory.glob("*.onnx"))
    ]
    path = directory / CHECKSUMS
    path.write_text("\n".join(lines) + "\n")
    return path


def verify_bundled(path: Path, actual: str | None = None) -> None:
    """Compare a bundled model with models/SHA256SUMS: a truncated download or an edited file would
    otherwise give quietly wrong zones rather than an error. `actual`: the file's sha256 when known."""
    sums = path.parent / CHECKSUMS
    recorded = {}
    for line in sums.read_text().splitlines() if sums.is_file() else []:
        digest, _, name = line.strip().partition("  ")
        recorded[name] = digest
    if path.name not in recorded:
        raise ModelIntegrityError(f"{path.name} has no checksum in {sums}; reinstall smpvision")
    actual = actual or hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != recorded[path.name]:
        raise ModelIntegrityError(
            f"bundled model {path} is damaged (sha256 {actual[:12]}…, expected {recorded[path.name][:12]}…); "
            "reinstall smpvision"
        )


class Segmenter:
    def __init__(
        self,
        session: Any,
        options: SegmenterOptions,
        model_file: Path | None = None,
        model_sha256: str | None = None,
    ) -> None:
        self.session = session
        self.options = options
        meta = session.get_modelmeta().custom_metadata_map
        self.metadata: dict[str, str] = dict(meta)
        names = json.loads(meta.get("smpvision.class_names", "[]"))
        if tuple(names) != ZONE_CLASSES:
            raise ValueError(
                f"model classes {names} are not smpvision's {list(ZONE_CLASSES)}; wrong model file?"
            )
        self.closeup_scale: dict[str, float] = json.loads(meta["smpvision.closeup_mm_per_px"])
        self.train_side = int(meta["smpvision.overview_side_px"])  # the training crop size
        self.overview_side = options.overview_side or self.train_side
        self.model_file = model_file
        # Which model produced a result: recorded in every assessment, and the batch CLI's resume key (a
        # result from another model file, e.g. the int8 variant, is not reused).
        self.identity: dict[str, str | None] = {
            "name": model_file.name if model_file is not None else None,
            "sha256": model_sha256,
            "format_version": self.metadata.get("smpvision.format_version"),
            "package_version": self.metadata.get("smpvision.package_version"),
        }

    @classmethod
    def from_path(cls, path: str | Path | None = None, options: SegmenterOptions | None = None) -> Segmenter:
        import onnxruntime as ort

        options = options or SegmenterOptions()
        path = Path(path) if path is not None else bundled_model_path()
        bundled = path.resolve().parent == bundled_model_path().resolve().parent
        if not path.is_file():
            raise FileNotFoundError(f"model file {path} not found; pass the path of an smpvision .onnx file")
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()  # read once: checksum check and identity
        if bundled:
            verify_bundled(path, sha256)
        so = ort.SessionOptions()
        if options.threads > 0:
            so.intra_op_num_threads = options.threads
            so.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        return cls(session, options, path, sha256)

    def __enter__(self) -> Segmenter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session = None

    def run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw model call on one uint8 RGB image as it is: (zones [5,H,W], density [H,W])."""
        if self.session is None:
            raise RuntimeError("this Segmenter is closed")
        zones, density = self.session.run(["zones", "density"], {"image": image[None]})
        return zones[0], density[0, 0]

    def segment(
        self, image: np.ndarray, view_kind: str | None = "overview", mm_per_px: float | None = None
    ) -> SegmentationResult:
        """view_kind: "overview" (whole-head photo), "closeup" (dermoscope/macro), or None (run as is)."""
        _check_image(image)
        if view_kind is not None and view_kind not in VIEW_KINDS:
            raise ValueError(f"view_kind must be one of {', '.join(VIEW_KINDS)} or None, not {view_kind!r}")
        if mm_per_px is not None and not mm_per_px > 0:
            raise ValueError(f"mm_per_px must be positive, got {mm_per_px}")
        h, w = image.shape[:2]
        source = "given" if mm_per_px is not None else "none"
        factor = 1.0
        if view_kind == "overview":
            factor = self.overview_side / max(h, w)
        elif view_kind == "closeup":
            if mm_per_px is None and self.options.estimate_scale:
                from .scale import estimate_mm_per_px

                mm_per_px = estimate_mm_per_px(image)
                source = "estimated" if mm_per_px is not None else "none"
            factor = self._closeup_factor(mm_per_px, h, w)
        small = _resize(image, factor)
        zones, density = self.run(small)
        if small.shape[:2] != (h, w):
            zones = np.stack([cv2.resize(z, (w, h), interpolation=cv2.INTER_LINEAR) for z in zones])
            total = float(density.sum())
            density = cv2.resize(density, (w, h), interpolation=cv2.INTER_LINEAR)
            # keep the integral: hairs are counted on the model's pixels, reported on the photo's
            density *= total / max(float(density.sum()), 1e-12) if total > 0 else 0.0
        return SegmentationResult(
            zones.astype(np.float32), density.astype(np.float32), mm_per_px, source, factor
        )

    def _closeup_factor(self, mm_per_px: float | None, h: int, w: int) -> float:
        """Resize factor for a close-up of known scale: brought into the trained range, never enlarged
        within it. A photo finer than the typical close-up scale the model was trained at (a dermoscope
        frame) is brought down to it; one between that and the coarsest trained scale (a phone macro of an
        8–25 mm field) runs as it is; a coarser one is enlarged to the coarsest. Enlarging every close-up
        to the typical scale made the model count blur as hairs: rendered macro close-ups at their true
        scale, median count error 91 % and up to 14 000 hairs/cm², against 63 % run unenlarged
        (MODEL_CARD.md). Capped at max_closeup_side."""
        cap = self.options.max_closeup_side / max(h, w)
        if mm_per_px is None:
            # no scale: assume a typical close-up framing, i.e. the whole photo is one training-size
            # field. Running a 1280-px dermoscope frame as it is made hairs look 5× thicker than any the
            # model saw, and it counted them as a whole head of hair.
            return min(self.train_side / max(h, w), cap)
        target = min(max(mm_per_px, self.closeup_scale["typical"]), self.closeup_scale["max"])
        return min(mm_per_px / target, cap)


def _resize(image: np.ndarray, factor: float) -> np.ndarray:
    if abs(factor - 1.0) < 1e-3:
        return image
    h, w = image.shape[:2]
    size = (max(MIN_SIDE, round(w * factor)), max(MIN_SIDE, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"image must be a uint8 RGB array of shape (H, W, 3), got {dtype} {shape}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image is {w}×{h} px; need at least {MIN_SIDE}×{MIN_SIDE}")
