"""Photos of painted walls through `assess`: how many are refused ("no scalp"), scored with the
plain-surface warning, or pass unnoticed as a scalp. The model calls a plain wall bald scalp, so this is
the quality gate's job (README, "Assessment engine").

    python benchmarks/walls.py [--model FILE] [--json outputs/walls.json]

10 paint colours (4 that skin never has, 6 skin-like clinic paints) × 3 plaster textures (smooth, fine
grain, coarse relief lit from one side), 1024×768 JPEG, built here independently of the renderer's
no-scalp scenes. A wall should be refused; a skin-coloured one may instead be scored with the warning,
since a fully bald close-up looks the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COLOURS = {
    "white": (236, 234, 228),
    "light_grey": (190, 190, 186),
    "blue": (150, 170, 200),
    "green": (160, 190, 150),
    "beige": (214, 194, 164),
    "cream": (240, 226, 196),
    "peach": (228, 190, 160),
    "pink": (226, 186, 184),
    "tan": (190, 150, 115),
    "terracotta": (180, 110, 80),
}
TEXTURES = {"smooth": (0.0, 0.0), "grain": (4.0, 0.0), "relief": (3.0, 14.0)}  # grain, relief amplitude


def wall_photo(rgb: tuple[int, int, int], texture: str, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = 768, 1024
    yy, xx = np.mgrid[0:h, 0:w] / w
    light = 1 + rng.uniform(-0.2, 0.2) * (xx - 0.5) + rng.uniform(-0.2, 0.2) * (yy - 0.4)
    grain_amp, relief_amp = TEXTURES[texture]
    grain = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 2.5)
    # plaster relief: blobs a few mm across, shaded by a light from the left (the height field's x slope)
    height = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 6)
    shade = np.gradient(height, axis=1)
    shade = shade / max(float(shade.std()), 1e-6)
    bump = grain_amp * grain / grain.std() + relief_amp * shade
    img = np.float32(rgb) * light[..., None] + bump[..., None]
    img = np.clip(img + rng.normal(0, 2.5, (h, w, 3)), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def gate_outcome(doc: dict) -> str:
    """ok, or why the quality gate stopped or doubted the photo (from the assessment's messages, which
    smpvision.analysis.quality words). Shared with benchmarks/real_gate.py."""
    if doc["status"] == "error":
        if "plain surface" in doc["error"]:
            return "refused_plain_surface"
        return "refused_no_scalp" if "no scalp" in doc["error"] else "refused_other"
    if any("no head outline" in w for w in doc["quality"]["warnings"]):
        return "warned_plain_surface"
    return "ok"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    ap.add_argument("--json", type=Path, default=Path("outputs/walls.json"))
    args = ap.parse_args()

    from smpvision.assess import assess
    from smpvision.segmenter import Segmenter

    rows, tally = [], Counter()
    with Segmenter.from_path(args.model) as seg:
        for i, (colour, rgb) in enumerate(COLOURS.items()):
            for j, texture in enumerate(TEXTURES):
                result = gate_outcome(assess(wall_photo(rgb, texture, 10 * i + j), segmenter=seg).to_dict())
                rows.append({"colour": colour, "texture": texture, "outcome": result})
                tally[result] += 1
                print(f"{colour:11s} {texture:7s} {result}", flush=True)
    print(", ".join(f"{k} {v}" for k, v in sorted(tally.items())) + f" of {len(rows)} walls")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"walls": rows, "tally": dict(tally)}, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
