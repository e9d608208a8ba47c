"""Hair colour and skin tone as a consultation reports them: rendered clients photographed from three
whole-head views (front, crown, top), assessed together with `assess`, as the app does.

    python benchmarks/client_colour.py [--clients 40] [--size 512] [--model FILE]
                                       [--json outputs/client_colour.json]

The three photos of a client share its skin and hair (the renderer draws them from the seed before
anything that depends on the view; light and camera differ), so a merged reading has one label. Per photo and
merged: hair name exact and within one shade (benchmarks/skin_tone.py's scale), and the median |ITA
error| of the skin tone where one was reported. Clients come from held-out seeds from 5 000 on (the
colour rules were tuned on calibration seeds).
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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # skin_tone's shade scale

VIEWS = ("front", "crown", "top")
FIRST_SEED = 5000


def _ita_err(skin: dict | None, true_ita: float) -> float | None:
    return None if skin is None else abs((skin["ita_deg"] - true_ita + 180.0) % 360.0 - 180.0)


def _share(v: list[bool]) -> float | None:
    return round(float(np.mean(v)), 3) if v else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=40)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    ap.add_argument("--json", type=Path, default=Path("outputs/client_colour.json"))
    args = ap.parse_args(argv)
    if args.clients < 1:
        ap.error("--clients must be at least 1")

    from skin_tone import _near_name

    from smpvision.assess import AssessOptions, assess
    from smpvision.segmenter import Segmenter, SegmenterOptions
    from smpvision.synth import render_sample
    from training.seeds import heldout_seed

    t0 = time.perf_counter()
    seg = Segmenter.from_path(args.model, SegmenterOptions(threads=1))
    single_exact, single_near, merged_exact, merged_near = [], [], [], []
    single_ita, merged_ita = [], []
    rows = []
    options = AssessOptions(view="overview", tags=list(VIEWS))
    for c in range(args.clients):
        seed = heldout_seed(FIRST_SEED + c)
        samples = [render_sample(seed, args.size, kind="overview", region=v) for v in VIEWS]
        truth = samples[0].meta
        doc = assess([s.image for s in samples], options, segmenter=seg, names=list(VIEWS)).to_dict()
        true_name, true_ita = truth["hair"]["name"], truth["skin"]["ita_deg"]

        names = []
        for photo in doc["photos"]:
            hair = photo.get("hair")
            if hair:
                names.append(hair["name"])
                single_exact.append(hair["name"] == true_name)
                single_near.append(_near_name(hair["name"], true_name))
            err = _ita_err(photo.get("skin"), true_ita)
            if err is not None:
                single_ita.append(err)
        merged = doc.get("hair")
        if merged:
            merged_exact.append(merged["name"] == true_name)
            merged_near.append(_near_name(merged["name"], true_name))
        err = _ita_err(doc.get("skin"), true_ita)
        if err is not None:
            merged_ita.append(err)
        rows.append(
            {
                "seed": list(seed),
                "true_hair": true_name,
                "views": names,
                "merged_hair": merged["name"] if merged else None,
                "merged_ita_err": err,
            }
        )
        print(
            f"  client {c + 1}/{args.clients}: {true_name} -> {names} -> {rows[-1]['merged_hair']}",
            file=sys.stderr,
        )

    result = {
        "clients": args.clients,
        "size": args.size,
        "seeds": f"training.seeds.heldout_seed({FIRST_SEED} + i), views {', '.join(VIEWS)}",
        "hair_single": {
            "n": len(single_near),
            "exact": _share(single_exact),
            "within_one": _share(single_near),
        },
        "hair_merged": {
            "n": len(merged_near),
            "exact": _share(merged_exact),
            "within_one": _share(merged_near),
        },
        "skin_single": {
            "n": len(single_ita),
            "ita_abs_err_median": round(float(np.median(single_ita)), 2) if single_ita else None,
        },
        "skin_merged": {
            "n": len(merged_ita),
            "ita_abs_err_median": round(float(np.median(merged_ita)), 2) if merged_ita else None,
        },
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    for key in ("hair_single", "hair_merged"):
        r = result[key]
        print(f"{key:12s} n {r['n']:3d}  exact {r['exact']}  within one shade {r['within_one']}")
    for key in ("skin_single", "skin_merged"):
        r = result[key]
        print(f"{key:12s} n {r['n']:3d}  median |ITA error| {r['ita_abs_err_median']}°")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.json} ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
