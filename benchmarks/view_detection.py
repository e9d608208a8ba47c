"""View detection (`--view auto`): how often a whole-head photo and a close-up are told apart, on rendered
held-out photos and, with --real, on every photo of both real sets (hair-loss photos are all whole heads,
trichoscopy frames all close-ups). Only the detection path runs (photo decoded as `assess` decodes it, the
model's whole-head pass, the shaft-width estimate where needed), so it is faster than real_gate.py, which
sends each photo through the whole assessment and counts only the photos its gate lets through.

    python benchmarks/view_detection.py [--n 150] [--size 384] [--real ../shared/realdata] [--model FILE]
                                        [--json outputs/view_detection.json]

Rendered photos come from the held-out seed space (never trained on), `--n` of each kind; the thresholds in
smpvision/analysis/view.py were chosen on a seed space of their own (6404), not on these.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.seeds without installing

from benchmarks.real_gate import SETS as REAL_SETS  # noqa: E402  (each set's files and the view they show)

KINDS = ("overview", "closeup")


def _tally(rows: list[dict]) -> dict:
    right = sum(r["detected"] == r["truth"] for r in rows)
    by: Counter = Counter((r["group"], r["detected"] == r["truth"]) for r in rows)
    groups = sorted({r["group"] for r in rows})
    return {
        "photos": len(rows),
        "right": right,
        "by_group": {g: {"right": by[(g, True)], "photos": by[(g, True)] + by[(g, False)]} for g in groups},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=150, help="rendered photos of each kind (default 150)")
    ap.add_argument("--size", type=int, default=384, help="rendered photo side in px (default 384)")
    ap.add_argument("--real", type=Path, default=None, help="folder holding the two real sets")
    ap.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    ap.add_argument("--json", type=Path, default=Path("outputs/view_detection.json"))
    args = ap.parse_args()

    from smpvision.analysis.view import detect_view_of
    from smpvision.assess import AssessOptions
    from smpvision.cli import Progress
    from smpvision.io import load_image
    from smpvision.segmenter import Segmenter
    from smpvision.synth import render_sample
    from training.realdata import parse_subject_view
    from training.seeds import heldout_seed

    max_side = AssessOptions().max_side
    report: dict = {}
    with Segmenter.from_path(args.model) as seg:
        rows = []
        progress = Progress(2 * args.n, "rendered")
        for k, kind in enumerate(KINDS):
            for i in range(args.n):
                s = render_sample(heldout_seed(i), size=args.size, kind=kind)
                detected, cues, _ = detect_view_of(s.image, seg)
                rows.append({"truth": kind, "group": s.meta["view"]["region"], "detected": detected, **cues})
                progress.update(k * args.n + i + 1)
        progress.close()
        report["rendered"] = _tally(rows)
        _print("rendered", report["rendered"])
        for name, (pattern, truth) in REAL_SETS.items() if args.real else ():
            files = sorted((args.real / name).glob(pattern))
            if not files:
                sys.exit(f"no photos in {args.real / name}; pass the folder holding {', '.join(REAL_SETS)}")
            rows = []
            progress = Progress(len(files), name)
            for i, path in enumerate(files, 1):
                image = load_image(path, max_side=max_side).pixels
                detected, cues, _ = detect_view_of(image, seg)
                view = parse_subject_view(path.name)[1] if truth == "overview" else "trichoscope"
                rows.append({"truth": truth, "group": view, "detected": detected, "file": path.name, **cues})
                progress.update(i)
            progress.close()
            report[name] = _tally(rows)
            report[name]["wrong"] = [r for r in rows if r["detected"] != truth]
            _print(name, report[name])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.json}")


def _print(name: str, tally: dict) -> None:
    groups = ", ".join(f"{g} {v['right']}/{v['photos']}" for g, v in tally["by_group"].items())
    print(f"{name}: view right on {tally['right']} of {tally['photos']} ({groups})", flush=True)


if __name__ == "__main__":
    main()
