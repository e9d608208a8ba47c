"""Every real photo through `assess` with the view detected, as a user sends it: how often the view is
detected right, how often the quality gate refuses or warns by mistake, and how often the scalp flags
fire on the hair-loss photos (pattern loss: an alopecia-areata flag there is presumably false).

    python benchmarks/real_gate.py --real ../shared/realdata [--model FILE] [--json outputs/real_gate.json]

trichoscopy-counts/ images are close-ups, hairloss-levels/ photos whole heads (see their README).
Takes about 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.walls import gate_outcome  # noqa: E402

SETS = {"trichoscopy-counts": ("images/*.jpg", "closeup"), "hairloss-levels": ("*/*.jpg", "overview")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, required=True, help="folder holding the two real sets")
    ap.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    ap.add_argument("--json", type=Path, default=Path("outputs/real_gate.json"))
    args = ap.parse_args()

    from smpvision.assess import assess
    from smpvision.cli import Progress
    from smpvision.segmenter import Segmenter

    report: dict = {}
    with Segmenter.from_path(args.model) as seg:
        for name, (pattern, truth) in SETS.items():
            files = sorted((args.real / name).glob(pattern))
            if not files:
                sys.exit(f"no photos in {args.real / name}; pass the folder holding {', '.join(SETS)}")
            views, gate, flags, scored = Counter(), Counter(), Counter(), 0
            progress = Progress(len(files), name)
            for i, path in enumerate(files, 1):
                doc = assess(path, segmenter=seg).to_dict()
                gate[gate_outcome(doc)] += 1
                if doc["status"] == "ok":
                    scored += 1
                    views[doc["view"]["kind"] == truth] += 1
                    flags.update(doc["flags"])
                progress.update(i)
            progress.close()
            report[name] = {
                "photos": len(files),
                "view_right": views[True],
                "view_scored": scored,
                "gate": dict(gate),
                "flags_on_scored": dict(flags),
            }
            print(
                f"{name}: {len(files)} photos; gate {dict(gate)}; view detected right on {views[True]} of "
                f"{scored} scored; flags {dict(flags)}",
                flush=True,
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
