"""Scratch (session 41): which of benchmarks/client_colour.py's 100 clients show bald scalp at all.
For each client, the largest share of the frame that is bald in the label zones over its three views
(front, crown, top), against whether version 3 / v2.1 gave the consultation a skin tone
(outputs/s40/client_colour_c1.json, client_colour_v21.json) and the median ITA error of those tones."""
import json
import sys

import numpy as np

sys.path.insert(0, "/work/main")
from smpvision.synth import render_sample  # noqa: E402
from training.seeds import heldout_seed  # noqa: E402

runs = {"version 3": "outputs/s40/client_colour_c1.json", "v2.1": "outputs/s40/client_colour_v21.json"}
docs = {k: json.load(open(p)) for k, p in runs.items()}
bald = np.array([max(float((render_sample(heldout_seed(5000 + c), 512, kind="overview", region=v).zones == 3).mean())
                     for v in ("front", "crown", "top")) for c in range(100)])  # fmt: skip
shows = bald >= 0.02  # the skin reader's rule for a whole-head photo (MIN_SHADED_SKIN_SHARE)
print(f"clients with >= 2 % of a frame truly bald in some view: {shows.sum()} of 100")
for name, doc in docs.items():
    err = np.array([np.nan if r["merged_ita_err"] is None else r["merged_ita_err"] for r in doc["rows"]])
    for label, m in (("shows bald", shows), ("shows none", ~shows)):
        e = err[m][~np.isnan(err[m])]
        print(f"  {name:9s} {label}: {len(e)} of {m.sum()} read, median |ITA error| {np.median(e):.1f}°")
