"""Hair counts on rendered held-out close-ups, split by what makes a close-up hard to count.

    python benchmarks/closeup_counts.py [--model FILE] [--n 240] [--json outputs/closeup_counts.json]
                                        [--render-size PX --run-at MM_PER_PX]

Each close-up is rendered at the model's training size and run through the network as it is (its scale is
inside the trained range by construction), so this measures the network's counting, not the runtime's
scale estimate. The true count is the renderer's: hairs whose exit from the skin lies in the frame.
--run-at asks what the scale the network is run at does to the count: each frame (rendered at
--render-size, e.g. 512, so that it can be brought down) is shrunk to that many mm per pixel, never
enlarged, with the label's own scale.

Groups: the device (trichoscope: a 2.5–6.5 mm field; macro: 8–25 mm), the hair's length style (shaved:
stubs under 1 mm whose exits all show; short: 1.5–12 mm shafts, which in a trichoscope field often run
in from exits outside it; long) and the true count (sparse: at most 40 hairs, like the real trichoscopy
frames' 5–28; dense: more). For each: median and mean relative error, Pearson r between predicted and
true counts, and the mean of each.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.seeds without installing

SPARSE_MAX = 40  # the real trichoscopy frames hold 5–28 hairs


def group_stats(true: np.ndarray, pred: np.ndarray) -> dict:
    """Relative errors (frames with at least one hair), r and means; None where undefined."""
    keep = true > 0
    t, p = true[keep], pred[keep]
    if len(t) == 0:
        return {"n": 0}
    rel = np.abs(p - t) / t
    r = float(np.corrcoef(t, p)[0, 1]) if len(t) > 2 and t.std() > 0 and p.std() > 0 else None
    return {
        "n": int(len(t)),
        "rel_err_median": round(float(np.median(rel)), 3),
        "rel_err_mean": round(float(np.mean(rel)), 3),
        "pearson_r": None if r is None else round(r, 3),
        "mean_true": round(float(t.mean()), 1),
        "mean_pred": round(float(p.mean()), 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    ap.add_argument("--n", type=int, default=240, help="held-out close-ups rendered")
    ap.add_argument("--json", type=Path, default=Path("outputs/closeup_counts.json"))
    ap.add_argument("--render-size", type=int, default=None, help="px (default: the model's training size)")
    ap.add_argument("--run-at", type=float, default=None, help="mm/px each frame is shrunk to before the run")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    if args.run_at is not None and not args.run_at > 0:
        ap.error("--run-at must be a positive mm/px")

    from smpvision.segmenter import Segmenter, SegmenterOptions, _resize
    from smpvision.synth import render_sample
    from training.seeds import heldout_seed

    t0 = time.perf_counter()
    seg = Segmenter.from_path(args.model, SegmenterOptions(threads=1))
    rows = []
    for i in range(args.n):
        s = render_sample(heldout_seed(i), args.render_size or seg.train_side, kind="closeup")
        image = s.image
        if args.run_at is not None:  # shrunk by the runtime's own resize, never enlarged
            image = _resize(image, min(1.0, s.meta["mm_per_px"] / args.run_at))
        _, density = seg.run(image)
        rows.append(
            {
                "region": s.meta["view"]["region"],
                "style": s.meta["hair"]["style"],
                "true": len(s.hairs),
                "pred": float(density.sum()),
            }
        )
        if (i + 1) % 40 == 0:
            print(f"  {i + 1}/{args.n} close-ups", file=sys.stderr)

    def stats(region: str | None = None, style: str | None = None, sparse: bool = False) -> dict:
        sel = [
            r
            for r in rows
            if region in (None, r["region"])
            and style in (None, r["style"])
            and (not sparse or r["true"] <= SPARSE_MAX)
        ]  # group_stats leaves out frames without hairs
        return group_stats(
            np.array([r["true"] for r in sel], float), np.array([r["pred"] for r in sel], float)
        )

    groups = {"all": stats()}
    for region in ("trichoscope", "macro"):
        groups[region] = stats(region)
        for style in ("shaved", "short", "long"):
            groups[f"{region} {style}"] = stats(region, style)
        groups[f"{region} sparse (<= {SPARSE_MAX})"] = stats(region, sparse=True)
        groups[f"{region} shaved sparse"] = stats(region, "shaved", sparse=True)
    print(f"{'group':30s} {'n':>4s} {'med rel':>8s} {'mean rel':>9s} {'r':>6s} {'true':>7s} {'pred':>7s}")
    for name, g in groups.items():
        if g["n"] == 0:
            print(f"{name:30s} {0:4d}")
            continue
        r = "  n/a" if g["pearson_r"] is None else f"{g['pearson_r']:6.2f}"
        print(
            f"{name:30s} {g['n']:4d} {g['rel_err_median']:8.2f} {g['rel_err_mean']:9.2f} {r} "
            f"{g['mean_true']:7.1f} {g['mean_pred']:7.1f}"
        )
    result = {
        "model": str(args.model or "bundled"),
        "size": args.render_size or seg.train_side,
        "run_at_mm_per_px": args.run_at,
        "seeds": "training.seeds.heldout_seed(i), i < n, kind=closeup",
        "groups": groups,
        "frames": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
