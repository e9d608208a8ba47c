"""Scratch: int8 variants of the bundled fp32 file, to see where the int8 time goes (session 41).
  A: as shipped (quant_pre_process optimises: HardSwish -> HardSigmoid + Mul, both quantized)
  B: pre-process without optimisation: HardSwish stays one float op between DQ and Q
  C: B, and the convolutions whose output goes into HardSwish stay float too
  D: A, with the three convolutions that read 3-channel images (the normalisation and each network's
     stem) left in float: int8 convolutions with 3 input channels profile 1.5-2.2x slower than float
  E: D and B together
"""
import sys
sys.path.insert(0, "/work/main")
from pathlib import Path
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from smpvision.synth import render_sample
from training.seeds import CALIBRATION_TAG

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "smpvision/models/smpvision-zones.onnx")
OPS = ["Conv", "MatMul", "Add", "Mul", "HardSigmoid", "GlobalAveragePool", "Relu", "Resize", "Concat"]
cal = [render_sample((CALIBRATION_TAG, i), size=256).image for i in range(24)]


class R(CalibrationDataReader):
    def __init__(self):
        self.it = iter([{"image": c[None]} for c in cal])

    def get_next(self):
        return next(self.it, None)


def _reads_image(g):
    first = {"/Conv"} | {n.name for n in g.graph.node if n.op_type == "Conv" and n.name.endswith("features.0.0/Conv")}
    return [n.name for n in g.graph.node if n.name in first]


def make(name, skip_opt, exclude_hs_convs, stems=False, ops=OPS):
    prep, out = Path(f"/tmp/{name}_prep.onnx"), Path(f"/tmp/v3_{name}.int8.onnx")
    quant_pre_process(str(SRC), str(prep), skip_optimization=skip_opt, skip_symbolic_shape=False)
    g = onnx.load(str(prep))
    excl = []
    if exclude_hs_convs:
        feeds_hs = {i for n in g.graph.node if n.op_type == "HardSwish" for i in n.input}
        excl = [n.name for n in g.graph.node if n.op_type == "Conv" and n.output[0] in feeds_hs]
    if stems:
        excl += _reads_image(g)
    quantize_static(str(prep), str(out), R(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    nodes_to_exclude=excl, op_types_to_quantize=ops)
    print(name, "excluded", len(excl), "->", out)


for spec in sys.argv[2:] or ["B", "C"]:
    make(spec, skip_opt=spec in "BCE", exclude_hs_convs=spec == "C", stems=spec in "DE")
