"""Scar typing (`smpvision.analysis.scars.find_scars`) on rendered held-out scars, from their label masks:
how often the largest scar found gets the type the renderer drew, per view kind, with the confusion.

    python benchmarks/scar_types.py [--n 120] [--size 384] [--offset 5000]

Label masks isolate the typing rules from the model (the bundled model finds few scars in whole-head
photos). --offset picks the held-out seeds: the rule thresholds in scars.py were chosen on seeds below
5000, so the default reports on seeds they were not chosen on.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.seeds without installing

TYPES = ("fut_strip", "fue_dots", "irregular", "raised")


def confusion(kind: str, n: int, size: int, offset: int) -> Counter:
    from smpvision.analysis.scars import find_scars
    from smpvision.synth import render_sample
    from training.seeds import heldout_seed

    counts: Counter = Counter()
    found, i = 0, 0
    while found < n and i < 40 * n:  # about a third of scenes hold a scar
        sample = render_sample(heldout_seed(offset + i), size, kind=kind)
        i += 1
        if not sample.meta["scars"]:
            continue
        found += 1
        truth = sample.meta["scars"][0]["type"]
        scars = find_scars(sample.image, sample.zones, sample.meta["mm_per_px"], closeup=kind == "closeup")
        counts[(truth, scars[0].type if scars else "none")] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120, help="scars per view kind")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--offset", type=int, default=5000, help="first held-out seed index")
    args = ap.parse_args(argv)
    for kind in ("overview", "closeup"):
        counts = confusion(kind, args.n, args.size, args.offset)
        total = sum(counts.values())
        right = sum(v for (t, p), v in counts.items() if t == p)
        print(f"{kind}: {right} of {total} typed right ({right / max(total, 1):.0%})")
        for truth in TYPES:
            row = {p: v for (t, p), v in sorted(counts.items()) if t == truth}
            if row:
                print(
                    f"  {truth:10s} {sum(row.values()):3d} -> "
                    + ", ".join(f"{p} {v}" for p, v in row.items())
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
