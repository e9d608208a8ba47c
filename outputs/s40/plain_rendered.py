"""Scratch: how often rendered held-out photos get the plain-surface warning or refusal, v2.1 vs c1.
Held-out seeds (training.seeds.heldout_seed), 384 px, view given (as the test does) and detected."""
import json, sys
sys.path.insert(0, "/work/main")
from smpvision.assess import AssessOptions, assess
from smpvision.segmenter import Segmenter
from smpvision.synth import render_sample
from training.seeds import heldout_seed
n = int(sys.argv[1])
out = {}
for name, path in (("v2.1", "/tmp/v21.onnx"), ("c1", "/work/main/outputs/s40/c1.onnx")):
    seg = Segmenter.from_path(path)
    hits = {"closeup": [], "overview": []}
    for i in range(n):
        kind = "closeup" if i % 2 else "overview"
        s = render_sample(heldout_seed(20_000 + i), 384, kind=kind)
        doc = assess(s.image, AssessOptions(view=kind), seg).to_dict()
        plain = any("no head outline" in w for w in doc.get("quality", {}).get("warnings", [])) or (
            doc.get("status") != "ok" and "plain surface" in (doc.get("error") or ""))
        if plain:
            hits[kind].append(i)
    out[name] = {k: len(v) for k, v in hits.items()} | {"seeds": hits}
    print(name, out[name], flush=True)
json.dump(out, open("/work/main/outputs/s40/plain_rendered.json", "w"))
