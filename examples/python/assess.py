"""Run the smpvision ONNX model with onnxruntime, numpy and Pillow only (no smpvision import).

    python examples/python/assess.py MODEL IMAGE [--mm-per-px S] [--as-is] [--raw DIR] [--threads N]

Prints one JSON object, {"zone_shares": {...}, "hairs": N}, the same as examples/node/assess.js on the
same file (docs/EMBEDDING.md). Errors: one line on stderr, exit status 1 (2 for a bad command line).

The resize below is written out by hand, not Pillow's, so that the Node.js and C# examples can repeat it
to the bit: all three then feed the model the same pixels and print the same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, UnidentifiedImageError

FORMAT_MAJOR = "1"  # the smpvision.format_version this script understands
MAX_CLOSEUP_SIDE = 1024  # the smpvision runtime's cap on a rescaled close-up
MIN_SIDE = 32


class AssessError(Exception):
    """A problem with the caller's input, reported as one line."""


def load_model(path: Path, threads: int = 0) -> tuple[ort.InferenceSession, dict]:
    if not path.is_file():
        raise AssessError(f"model file {path} not found")
    options = ort.SessionOptions()
    if threads > 0:
        options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several types; all mean "not a usable model"
        raise AssessError(f"{path} is not a loadable ONNX model: {first_line(exc)}") from None
    inputs = [i.name for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if inputs != ["image"] or not {"zones", "density"} <= set(outputs):
        raise AssessError(
            f"{path} is not an smpvision model: inputs {inputs}, outputs {outputs} "
            "(expected input image, outputs zones and density)"
        )
    meta = dict(session.get_modelmeta().custom_metadata_map)
    version = meta.get("smpvision.format_version", "")
    if version.split(".")[0] != FORMAT_MAJOR:
        raise AssessError(f"{path} has format version {version or 'none'}; this script reads {FORMAT_MAJOR}")
    return session, meta


def load_image(path: Path) -> np.ndarray:
    """uint8 [H, W, 3] RGB. EXIF orientation is not applied (nor by the Node and C# examples)."""
    if not path.is_file():
        raise AssessError(f"image file {path} not found")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise AssessError(f"{path} is not a readable PNG or JPEG image: {first_line(exc)}") from None


def scale_factor(h: int, w: int, meta: dict, mm_per_px: float | None) -> float:
    """Model pixels per photo pixel. Overviews (and close-ups of unknown scale): long side to the
    training size. Close-ups of known scale: finer than the typical close-up scale down to it, between
    that and the coarsest trained scale as they are, coarser up to the coarsest; at most 1024 px."""
    if mm_per_px is None:
        return int(meta["smpvision.overview_side_px"]) / max(h, w)
    scale = json.loads(meta["smpvision.closeup_mm_per_px"])
    target = min(max(mm_per_px, scale["typical"]), scale["max"])
    return min(mm_per_px / target, MAX_CLOSEUP_SIDE / max(h, w))


def taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights [n_out, K] of a 1-D resize: area average when shrinking, bilinear
    (pixel centres aligned) when enlarging. Plain float arithmetic, mirrored in assess.js."""
    rows: list[list[tuple[int, float]]] = []
    if n_out < n_in:
        s = n_in / n_out
        for i in range(n_out):
            lo, hi = i * s, (i + 1) * s
            row = []
            for j in range(math.floor(lo), min(math.ceil(hi), n_in)):
                row.append((j, (min(hi, j + 1) - max(lo, j)) / s))
            rows.append(row)
    else:
        s = n_in / n_out
        for i in range(n_out):
            x = max((i + 0.5) * s - 0.5, 0.0)
            j = min(math.floor(x), n_in - 1)
            t = x - j
            rows.append([(j, 1.0 - t), (min(j + 1, n_in - 1), t)])
    k = max(len(r) for r in rows)
    idx = np.zeros((n_out, k), np.int64)
    wts = np.zeros((n_out, k), np.float64)  # padding taps weigh 0 and add exactly nothing
    for i, row in enumerate(rows):
        for m, (j, wt) in enumerate(row):
            idx[i, m], wts[i, m] = j, wt
    return idx, wts


def resize(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    if abs(factor - 1.0) < 1e-3:
        return image
    # half up, not Python's round-half-even: JavaScript's Math.round and C#'s AwayFromZero agree with it
    out_w = max(MIN_SIDE, math.floor(w * factor + 0.5))
    out_h = max(MIN_SIDE, math.floor(h * factor + 0.5))
    src = image.astype(np.float64)
    idx, wts = taps(w, out_w)  # along x first, then y: the order assess.js uses
    acc = np.zeros((h, out_w, 3))
    for m in range(idx.shape[1]):
        acc += wts[None, :, m, None] * src[:, idx[:, m]]
    idx, wts = taps(h, out_h)
    out = np.zeros((out_h, out_w, 3))
    for m in range(idx.shape[1]):
        out += wts[:, m, None, None] * acc[idx[:, m]]
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def summarise(zones: np.ndarray, density: np.ndarray, classes: list[str]) -> dict:
    """zones [C, H, W] probabilities, density [H, W] hairs per pixel -> the headline numbers."""
    if "background" not in classes or zones.shape[0] != len(classes):
        raise AssessError(
            f"model classes {classes} do not match its zones output ({zones.shape[0]} channels)"
        )
    background = classes.index("background")
    ids = zones.argmax(0)  # ties go to the lower class id, as in assess.js
    scalp = int((ids != background).sum())
    shares = {
        name: (int((ids == c).sum()) / scalp if scalp else 0.0)
        for c, name in enumerate(classes)
        if c != background
    }
    return {"zone_shares": shares, "hairs": float(density.sum(dtype=np.float64))}


def write_raw(directory: Path, image: np.ndarray, zones: np.ndarray, density: np.ndarray) -> None:
    """The model's input and outputs as little-endian binaries, plus their shapes (for parity checks)."""
    directory.mkdir(parents=True, exist_ok=True)
    image.tofile(directory / "image.u8")
    zones.astype("<f4").tofile(directory / "zones.f32")
    density.astype("<f4").tofile(directory / "density.f32")
    shapes = {"image": list(image.shape), "zones": list(zones.shape), "density": list(density.shape)}
    (directory / "shapes.json").write_text(json.dumps(shapes) + "\n")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Zone shares and hair count of one photo.")
    parser.add_argument("model", type=Path, help="smpvision .onnx file")
    parser.add_argument("image", type=Path, help="PNG or JPEG photo")
    parser.add_argument("--mm-per-px", type=positive, help="a close-up's known scale (mm per photo pixel)")
    parser.add_argument("--as-is", action="store_true", help="run the photo at its own size, no resize")
    parser.add_argument("--raw", type=Path, metavar="DIR", help="also write the model's input and outputs")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (0: all cores)")
    args = parser.parse_args(argv)
    try:
        session, meta = load_model(args.model, args.threads)
        classes = json.loads(meta["smpvision.class_names"])
        image = load_image(args.image)
        if min(image.shape[:2]) < MIN_SIDE:
            raise AssessError(
                f"{args.image} is {image.shape[1]}x{image.shape[0]} px; need {MIN_SIDE}x{MIN_SIDE}"
            )
        if not args.as_is:
            image = resize(image, scale_factor(*image.shape[:2], meta, args.mm_per_px))
        zones, density = session.run(["zones", "density"], {"image": image[None]})
        result = summarise(zones[0], density[0, 0], classes)
        if args.raw:
            write_raw(args.raw, image[None], zones, density)
    except AssessError as exc:
        print(f"assess.py: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
