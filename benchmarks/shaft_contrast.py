"""How dark hair shafts read against the skin in dermoscope frames: rendered against real.

    python benchmarks/shaft_contrast.py --real ../shared/realdata [--n 80]
                                        [--json outputs/shaft_contrast.json]

The statistic is the darkest 1 % of a frame's luminance over its median (pixels darker than 8 of 255, the
lens circle's black corners, left out): in a frame with hairs the darkest 1 % are the shafts, the median
is skin. Rendered: held-out trichoscope close-ups with at least 5 hairs in view, at 384 px, all hair
colours and, separately, black and dark-brown hair (what the real set shows). Real: the first --n frames of
trichoscopy-counts/ (all dark hair). p10 / p50 / p90 of each. A renderer whose shafts read paler than the
real frames' teaches the density head a contrast it never meets, and real shafts then look like more hair.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.* without installing

DARK_HAIR = ("black", "dark_brown")


def shaft_contrast(rgb: np.ndarray) -> float:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey = grey[grey > 8]
    return float(np.percentile(grey, 1) / max(float(np.median(grey)), 1.0))


def _spread(values: list[float]) -> dict:
    p10, p50, p90 = np.percentile(values, [10, 50, 90]) if values else (np.nan,) * 3
    rounded = [round(float(v), 3) for v in (p10, p50, p90)]
    return {"n": len(values), "p10": rounded[0], "p50": rounded[1], "p90": rounded[2]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, required=True, help="realdata folder (trichoscopy-counts/)")
    ap.add_argument("--n", type=int, default=80, help="frames of each kind")
    ap.add_argument("--json", type=Path, default=Path("outputs/shaft_contrast.json"))
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")

    from smpvision.synth import RENDERER_VERSION, render_sample
    from training import realdata
    from training.seeds import heldout_seed

    rendered, dark, i = [], [], 0
    while len(rendered) < args.n:
        s = render_sample(heldout_seed(i), 384, kind="closeup")
        i += 1
        if s.meta["view"]["region"] != "trichoscope" or len(s.hairs) < 5:
            continue
        rendered.append(shaft_contrast(s.image))
        if s.meta["hair"]["name"] in DARK_HAIR:
            dark.append(rendered[-1])
    photos = realdata.load_trichoscopy(args.real / "trichoscopy-counts")[: args.n]
    real = [shaft_contrast(realdata.load_rgb(p.path)) for p in photos]
    result = {
        "renderer": RENDERER_VERSION,
        "statistic": "1st percentile / median of frame luminance (pixels > 8 of 255)",
        "rendered_trichoscope": _spread(rendered),
        "rendered_trichoscope_dark_hair": _spread(dark),
        "real_trichoscopy": _spread(real),
    }
    for name in ("rendered_trichoscope", "rendered_trichoscope_dark_hair", "real_trichoscopy"):
        r = result[name]
        print(f"{name:32s} n={r['n']:3d}  p10 {r['p10']:.2f}  p50 {r['p50']:.2f}  p90 {r['p90']:.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
