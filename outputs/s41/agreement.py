"""Scratch (session 41): agreement of int8 files and of a re-exported fp32 file with the shipped fp32 file
on 40 held-out renders: zone argmax agreement, max |zones| diff, density sum relative diff."""
import sys
sys.path.insert(0, "/work/main")
import numpy as np
import onnxruntime as ort
from smpvision.synth import render_sample
from training.seeds import heldout_seed

ref_path, *paths = sys.argv[1:]
so = ort.SessionOptions(); so.intra_op_num_threads = 1
ref = ort.InferenceSession(ref_path, so, providers=["CPUExecutionProvider"])
sess = {p: ort.InferenceSession(p, so, providers=["CPUExecutionProvider"]) for p in paths}
stats = {p: {"agree": [], "zmax": [], "count": []} for p in paths}
for i in range(40):
    x = render_sample(heldout_seed(9000 + i), size=384).image[None]
    z0, d0 = ref.run(None, {"image": x})
    for p, s in sess.items():
        z, d = s.run(None, {"image": x})
        st = stats[p]
        st["agree"].append(float((z.argmax(1) == z0.argmax(1)).mean()))
        st["zmax"].append(float(np.abs(z - z0).max()))
        st["count"].append(abs(float(d.sum()) - float(d0.sum())) / max(float(d0.sum()), 1.0))
for p, st in stats.items():
    print(f"{p}: argmax agreement {np.mean(st['agree']):.4f}, max |zones diff| {max(st['zmax']):.2e}, "
          f"median count diff {np.median(st['count']):.4f}, max {max(st['count']):.4f}")
