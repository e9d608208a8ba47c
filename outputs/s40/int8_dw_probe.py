"""Scratch: int8 with the depthwise convolutions left in float (nodes_to_exclude), version 3's fp32 file."""
import sys
sys.path.insert(0, "/work/main")
from pathlib import Path
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from smpvision.synth import render_sample
from training.seeds import CALIBRATION_TAG

src = Path("smpvision/models/smpvision-zones.onnx"); out = Path("/tmp/v3_dwfloat.int8.onnx")
prep = Path("/tmp/v3_prep.onnx")
quant_pre_process(str(src), str(prep), skip_symbolic_shape=False)
g = onnx.load(str(prep))
dw = [n.name for n in g.graph.node if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)]
print("depthwise convs", len(dw), "of", sum(n.op_type == "Conv" for n in g.graph.node))
cal = [render_sample((CALIBRATION_TAG, i), size=256).image for i in range(24)]
class R(CalibrationDataReader):
    def __init__(self): self.it = iter([{"image": c[None]} for c in cal])
    def get_next(self): return next(self.it, None)
quantize_static(str(prep), str(out), R(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=dw,
                op_types_to_quantize=["Conv", "MatMul", "Add", "Mul", "HardSigmoid", "GlobalAveragePool", "Relu", "Resize", "Concat"])
s, d = onnx.load(str(src)), onnx.load(str(out))
del d.metadata_props[:]
for p in s.metadata_props:
    d.metadata_props.add(key=p.key, value=p.value + (" (int8 static QDQ)" if p.key == "smpvision.model" else ""))
onnx.save(d, str(out)); print("wrote", out)
