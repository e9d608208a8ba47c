"""Skin tone through two models' zones, on the same rendered photos: is a candidate's reading worse?

    python benchmarks/skin_compare.py CANDIDATE.onnx --tag T [--base FILE] [--n 600] [--size 384]
                                      [--json outputs/skin_compare.json]

benchmarks/skin_tone.py reads 150 held-out photos per row; about 90 of them get a reading, and their ITA
errors are heavy-tailed, so a median moves by a few degrees from one set of 150 to another (model card,
"v2.1t1": a candidate read 3.6° worse than the bundled model on the held-out 150 and 1.0° better on 150
others). That is the size of the differences rules for candidates have to decide. This benchmark reads
whole-head photos, and the same photos with the calibration card, through both models' zones (argmax, as
`assess` reads them), and gives each condition's median |ITA error|, share of photos with a reading,
Fitzpatrick ±1, median signed error, and a paired bootstrap interval of the difference of the medians
(candidate − base; resampling photos, so both models keep the same photos).

Seeds are `(tag, i)`, i < n. --tag has no default: a rule that uses this benchmark names a tag no earlier
rule used, since once a seed set has decided something it has been looked at. Used: 6406 (v2.1t1), 6408
(v2.1t2), both 2026-12-07, and 6410 (c1, 2026-12-08); 6404, 6405, 6407 and 6409 are tuning spaces of
other checks.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # share the machine: one thread, like skin_tone.py

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONDITIONS = ("whole_head", "whole_head_card")
Reading = tuple[float, bool] | None  # (signed ITA error in degrees, Fitzpatrick within ±1) or no reading


def summary(readings: list[Reading]) -> dict:
    """Median |ITA error|, coverage, Fitzpatrick ±1 and median signed error over the photos with a reading."""
    got = [r for r in readings if r is not None]
    if not got:
        return {"n": len(readings), "coverage": 0.0, "ita_abs_err_median": None, "fitzpatrick_within_1": None,
                "ita_bias_median": None}  # fmt: skip
    return {
        "n": len(readings),
        "coverage": round(len(got) / len(readings), 3),
        "ita_abs_err_median": round(float(np.median([abs(e) for e, _ in got])), 2),
        "fitzpatrick_within_1": round(float(np.mean([ok for _, ok in got])), 3),
        "ita_bias_median": round(float(np.median([e for e, _ in got])), 2),
    }


def paired_median_difference(
    base: list[Reading], candidate: list[Reading], resamples: int = 2000, seed: int = 0
) -> dict:
    """Difference of the median |ITA error| (candidate − base) and its 95 % bootstrap interval. Photos are
    resampled, and each model's median is taken over the resampled photos where it has a reading."""
    if len(base) != len(candidate):
        raise ValueError(
            f"the two models read {len(base)} and {len(candidate)} photos; they must be the same"
        )
    a = np.array([np.nan if r is None else abs(r[0]) for r in base])
    b = np.array([np.nan if r is None else abs(r[0]) for r in candidate])
    if np.isnan(a).all() or np.isnan(b).all():
        return {"difference": None, "interval_95": None, "resamples": resamples}
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(resamples):
        idx = rng.integers(0, len(a), len(a))
        sa, sb = a[idx], b[idx]
        if not (np.isnan(sa).all() or np.isnan(sb).all()):  # a resample where one model reads nothing
            diffs.append(np.nanmedian(sb) - np.nanmedian(sa))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return {
        "difference": round(float(np.nanmedian(b) - np.nanmedian(a)), 2),
        "interval_95": [round(float(lo), 2), round(float(hi), 2)],
        "resamples": resamples,
    }


def read_photos(models: dict[str, str | None], n: int, tag: int, size: int) -> dict[str, dict[str, list]]:
    """{condition: {model name: [Reading per photo]}}: each photo rendered once per condition and read
    through every model."""
    from contextlib import ExitStack

    from smpvision.analysis.calibration import find_marker
    from smpvision.analysis.colour import skin_tone
    from smpvision.segmenter import Segmenter, SegmenterOptions
    from smpvision.synth import render_sample

    out: dict[str, dict[str, list]] = {c: {name: [] for name in models} for c in CONDITIONS}
    with ExitStack() as stack:  # every model session closed, also on Ctrl-C
        segs = {
            name: stack.enter_context(Segmenter.from_path(path, options=SegmenterOptions(threads=1)))
            for name, path in models.items()
        }
        for i in range(n):
            for cond in CONDITIONS:
                card = cond == "whole_head_card"
                s = render_sample((tag, i), size, kind="overview", marker=card)
                marker = find_marker(s.image) if card else None
                truth_ita, truth_fitz = s.meta["skin"]["ita_deg"], s.meta["skin"]["fitzpatrick"]
                for name, seg in segs.items():
                    zones = seg.segment(s.image, view_kind="overview").zones
                    st = skin_tone(s.image, zones, marker, view="overview")
                    reading = None
                    if st is not None:
                        err = (st.ita_deg - truth_ita + 180.0) % 360.0 - 180.0
                        reading = (float(err), abs(st.fitzpatrick - truth_fitz) <= 1)
                    out[cond][name].append(reading)
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{n} photos", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate", type=Path, help="the candidate .onnx file")
    ap.add_argument(
        "--base", type=Path, default=None, help="the model to compare with (default: the bundled one)"
    )
    ap.add_argument("--n", type=int, default=600, help="photos per condition (default 600)")
    ap.add_argument("--tag", type=int, required=True, help="seed space: photos are (tag, i), i < n")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--json", type=Path, default=Path("outputs/skin_compare.json"))
    args = ap.parse_args(argv)
    for path in (args.candidate, args.base):
        if path is not None and not path.is_file():
            ap.error(f"model file {path} not found")
    if args.n < 2:
        ap.error("--n must be at least 2")

    t0 = time.perf_counter()
    models = {"base": None if args.base is None else str(args.base), "candidate": str(args.candidate)}
    readings = read_photos(models, args.n, args.tag, args.size)
    result: dict = {
        "models": {"base": models["base"] or "bundled", "candidate": models["candidate"]},
        "seeds": f"({args.tag}, i), i < {args.n}",
        "size": args.size,
        "conditions": {},
    }
    print(f"{'condition':16s} {'model':10s} {'|dITA|med':>9s} {'read':>5s} {'Fitz±1':>6s} {'bias':>6s}")
    for cond in CONDITIONS:
        rows = {name: summary(readings[cond][name]) for name in models}
        diff = paired_median_difference(readings[cond]["base"], readings[cond]["candidate"], args.resamples)
        result["conditions"][cond] = {**rows, "candidate_minus_base": diff}
        for name, r in rows.items():
            med = "n/a" if r["ita_abs_err_median"] is None else f"{r['ita_abs_err_median']:.1f}°"
            fitz = "n/a" if r["fitzpatrick_within_1"] is None else f"{r['fitzpatrick_within_1']:.2f}"
            bias = "n/a" if r["ita_bias_median"] is None else f"{r['ita_bias_median']:+.1f}"
            print(f"{cond:16s} {name:10s} {med:>9s} {r['coverage']:5.2f} {fitz:>6s} {bias:>6s}")
        if diff["difference"] is not None:
            lo, hi = diff["interval_95"]
            gap = f"{diff['difference']:+.2f}° (95 % interval {lo:+.2f} … {hi:+.2f})"
            print(f"{cond:16s} candidate − base: {gap}")
    result["seconds"] = round(time.perf_counter() - t0, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
