"""The alopecia-areata flag's rule (`smpvision.analysis.flags`) on rendered held-out whole-head photos:
how many areata heads it flags and how many others it flags by mistake, on the label zones (the rule
alone) and on the model's zones (what a user gets).

    python benchmarks/areata.py [--areata 15] [--others 60] [--size 512] [--model FILE]

Seeds from 10 000 on in the held-out space; areata is drawn for about one head in 14, so about 200 are
rendered for 15 areata ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--areata", type=int, default=15, help="areata heads to score")
    ap.add_argument("--others", type=int, default=60, help="heads with any other pattern to score")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--model", type=Path, default=None, help="ONNX file (default: the bundled model)")
    args = ap.parse_args()

    from smpvision.analysis.flags import scalp_flags
    from smpvision.segmenter import Segmenter
    from smpvision.synth import render_sample
    from training.seeds import heldout_seed

    want = {True: args.areata, False: args.others}
    flagged = {(a, src): 0 for a in want for src in ("labels", "model")}
    seen = {True: 0, False: 0}
    i = 10_000
    with Segmenter.from_path(args.model) as seg:
        while any(seen[a] < want[a] for a in want):
            s = render_sample(heldout_seed(i), size=args.size, kind="overview")
            i += 1
            areata = s.meta["pattern"] == "areata"
            if seen[areata] >= want[areata]:
                continue
            seen[areata] += 1
            for src, zones in (("labels", s.zones), ("model", seg.segment(s.image).zone_ids)):
                flagged[(areata, src)] += "possible_alopecia_areata" in scalp_flags(zones, None, "overview")
    for src in ("labels", "model"):
        print(
            f"{src:6s} zones: flags {flagged[(True, src)]} of {seen[True]} areata heads, "
            f"{flagged[(False, src)]} of {seen[False]} others"
        )


if __name__ == "__main__":
    main()
