"""Renderer throughput on one CPU core, against the 25 samples/s target that on-the-fly training needs.

    python benchmarks/renderer.py --n 200 --size 384 [--json out.json]

One core because training data loaders run one renderer per worker process; a multi-threaded BLAS or
OpenCV would make this number look better than what each worker actually gets.
"""

from __future__ import annotations

import os

# Must be set before numpy/OpenCV load their thread pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)

TARGET_PER_S = 25.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="samples to time (after warm-up)")
    ap.add_argument("--size", type=int, default=384, help="image side in pixels")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--closeup-fraction", type=float, default=0.3)
    ap.add_argument("--warmup", type=int, default=5, help="untimed samples first (imports, caches)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")

    from smpvision.synth import render_sample

    for i in range(args.warmup):
        render_sample(
            seed=(args.seed + 1, i), size=args.size, kind=None, closeup_fraction=args.closeup_fraction
        )

    per_kind: dict[str, list[float]] = {}
    start = time.perf_counter()
    for i in range(args.n):
        t0 = time.perf_counter()
        s = render_sample(
            seed=(args.seed, i), size=args.size, kind=None, closeup_fraction=args.closeup_fraction
        )
        per_kind.setdefault(s.meta["view"]["kind"], []).append(time.perf_counter() - t0)
    total = time.perf_counter() - start

    rate = args.n / total
    result = {
        "benchmark": "renderer",
        "n": args.n,
        "size": args.size,
        "closeup_fraction": args.closeup_fraction,
        "threads": 1,
        "seconds": round(total, 4),
        "samples_per_s": round(rate, 3),
        "target_per_s": TARGET_PER_S,
        "ratio_to_target": round(rate / TARGET_PER_S, 3),
        "per_kind": {
            kind: {
                "n": len(ts),
                "samples_per_s": round(len(ts) / sum(ts), 3),
                "ms_median": round(1000 * float(np.median(ts)), 2),
                "ms_p95": round(1000 * float(np.percentile(ts, 95)), 2),
            }
            for kind, ts in sorted(per_kind.items())
        },
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(
        f"renderer {args.size}px, 1 thread: {rate:.1f} samples/s over {args.n} "
        f"({rate / TARGET_PER_S:.2f}x the {TARGET_PER_S:.0f}/s target)"
    )
    for kind, r in result["per_kind"].items():
        print(
            f"  {kind:9s} n={r['n']:4d}  {r['samples_per_s']:7.1f}/s  "
            f"median {r['ms_median']:.1f} ms  p95 {r['ms_p95']:.1f} ms"
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
