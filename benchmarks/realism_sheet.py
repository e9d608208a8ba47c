"""Rendered photos next to real ones, to judge by eye whether the renderer's output passes for real.

    python benchmarks/realism_sheet.py --real ../shared/realdata --out realism.png [--n 24] [--seed 0]

Writes two sheets: `<out>` (overviews vs hair-loss-levels phone photos) and `<out stem>_closeup.png`
(close-ups vs trichoscopy frames). Tiles are shuffled; the key (which tile is rendered) is printed and
saved beside the sheets, so a reviewer can first guess, then check. Real photos are only read.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import cv2
import numpy as np

from smpvision.contact_sheet import contact_sheet, save_png
from smpvision.synth import render_sample


def _real(folder: Path, n: int, rnd: random.Random) -> list[np.ndarray]:
    files = sorted(folder.rglob("*.jpg"))
    if not files:
        raise SystemExit(f"no .jpg photos under {folder}; pass --real pointing at ../shared/realdata")
    out = []
    for f in rnd.sample(files, min(n, len(files))):
        img = cv2.imread(str(f), cv2.IMREAD_COLOR)
        out.append(np.ascontiguousarray(img[..., ::-1]))
    return out


def _sheet(
    real: list[np.ndarray], rendered: list[np.ndarray], rnd: random.Random, tile: int, path: Path
) -> list[str]:
    tiles = [(img, "real") for img in real] + [(img, "rendered") for img in rendered]
    rnd.shuffle(tiles)
    key = [kind for _, kind in tiles]
    captions = [str(i) for i in range(len(tiles))]
    save_png(path, contact_sheet([t for t, _ in tiles], captions, tile, 8))
    return key


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, required=True, help="the realdata folder (both sets inside)")
    ap.add_argument("--out", type=Path, default=Path("realism.png"))
    ap.add_argument("--n", type=int, default=16, help="photos of each origin per sheet")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--tile", type=int, default=200)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    levels = _real(args.real / "hairloss-levels", args.n, rnd)
    tricho = _real(args.real / "trichoscopy-counts", args.n, rnd)
    ov = [render_sample((args.seed, 1, i), args.size, kind="overview").image for i in range(args.n)]
    cu = [render_sample((args.seed, 2, i), args.size, kind="closeup").image for i in range(args.n)]
    closeup_path = args.out.with_name(args.out.stem + "_closeup.png")
    key = {
        str(args.out): _sheet(levels, ov, rnd, args.tile, args.out),
        str(closeup_path): _sheet(tricho, cu, rnd, args.tile, closeup_path),
    }
    args.out.with_suffix(".key.json").write_text(json.dumps(key, indent=1))
    for path, kinds in key.items():
        print(path, "rendered tiles:", [i for i, k in enumerate(kinds) if k == "rendered"])


if __name__ == "__main__":
    main()
