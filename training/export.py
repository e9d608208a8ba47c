"""ONNX export with the preprocessing inside the graph, metadata that travels with the weights, and
self-checks: the onnx checker and ONNX Runtime-vs-torch parity at a size other than the traced one.

Contract (DESIGN.md): input `image` uint8 [N, H, W, 3] RGB, any N/H/W; outputs `zones` float32
[N, 5, H, W] class probabilities and `density` float32 [N, 1, H, W] hairs per pixel.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

import smpvision
from smpvision.contracts import ZONE_CLASSES
from smpvision.synth.closeup import FIELD_MM

from .config import TrainConfig, from_dict, to_dict
from .model import MEAN, STD, ComposedSegmenter, preprocess
from .realdata import HAIRLOSS_ATTRIBUTION
from .seeds import CALIBRATION_TAG
from .train import build_model, training_stage

FORMAT_VERSION = "1"  # bump when inputs, outputs or the meaning of a metadata key change
OPSET = 18
# a composite file (training.model.ComposedSegmenter): the config of the network its density comes from;
# smpvision.training_config is then the zones network's
DENSITY_CONFIG_KEY = "smpvision.density_training_config"


class ServingModel(nn.Module):
    """uint8 NHWC in, probabilities and density out: what a caller of the ONNX file sees."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(preprocess(image), probabilities=True)
        return out["zones"], out["density"]


def closeup_scale(cfg: TrainConfig) -> dict[str, float]:
    """mm per pixel of the close-ups the model was trained on: the renderer's fields of view at the
    training size. `typical` is the dermoscope field's geometric mean, the scale to bring a close-up to."""
    lo_t, hi_t = FIELD_MM["trichoscope"]
    lo_m, hi_m = FIELD_MM["macro"]
    size = cfg.data.size
    return {
        "typical": round(float(np.sqrt(lo_t * hi_t)) / size, 6),
        "min": round(min(lo_t, lo_m) / size, 6),
        "max": round(max(hi_t, hi_m) / size, 6),
    }


def weights_sha256(net: nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def training_summary(stages: list[dict]) -> str:
    """The one-line `smpvision.training_data`: renderer, augmented views seen, size, close-up share and
    folders, stage by stage when the model was fine-tuned on other data."""
    parts = []
    for s in stages:
        renderer = "renderer version not recorded" if s["renderer"] is None else f"renderer v{s['renderer']}"
        views = (s["to_step"] - s["from_step"]) * s["views_per_step"]
        parts.append(
            f"{views} augmented views at {s['size']} px, {s['closeup_fraction']:.0%} close-ups"
            + (f" (all {s['closeup_region']})" if s.get("closeup_region") else "")
            + f" ({renderer})"
            + (f", only {s['train_only']} trained" if s.get("train_only") else "")
            + "".join(f", folder {f}" for f in s["folders"])
            + (
                f", with {s['levels_pairs_per_step']} level pairs per step of hair-loss photos of training"
                f" persons (weak severity and no-scar losses; {HAIRLOSS_ATTRIBUTION})"
                if s.get("levels_pairs_per_step")
                else ""
            )
        )
    return "procedural scalp renderer (smpvision.synth): " + "; then ".join(parts)


def metadata(
    net: nn.Module,
    cfg: TrainConfig,
    step: int,
    world_size: int = 1,
    extra: dict | None = None,
    stages: list[dict] | None = None,
) -> dict[str, str]:
    """stages: the checkpoint's training stages (training.train.checkpoint_stages); None = one stage on the
    current renderer with cfg's data."""
    meta = {
        "smpvision.format_version": FORMAT_VERSION,
        "smpvision.package_version": smpvision.__version__,
        "smpvision.class_names": json.dumps(list(ZONE_CLASSES)),
        "smpvision.density_unit": "hairs per pixel (the map integrates to the hair count of the image)",
        "smpvision.closeup_mm_per_px": json.dumps(closeup_scale(cfg)),
        "smpvision.overview_side_px": str(cfg.data.size),
        "smpvision.normalisation": json.dumps({"mean": MEAN, "std": STD, "scale": "1/255"}),
        "smpvision.model": cfg.model.name,
        # "ignore": close-up hair/thinning/bald zones were not trained; judge them from the density
        "smpvision.closeup_zones": cfg.data.closeup_zones,
        # how hair / thinning / bald are divided: the classifier's own, or its scalp share split by the
        # regressed relative density at the renderer's thresholds
        "smpvision.zones_from": (
            "relative_density" if getattr(net, "zones_from_relative", False) else "classes"
        ),
        "smpvision.training_data": training_summary(
            stages or [training_stage(cfg, 0, world_size, to_step=step)]
        ),
        "smpvision.training_config": json.dumps(to_dict(cfg)),
        "smpvision.weights_sha256": weights_sha256(net),
    }
    meta.update(extra or {})
    return meta


def composite_metadata(
    zones_cfg: TrainConfig, zones_stages: list[dict], density_cfg: TrainConfig, density_stages: list[dict]
) -> dict[str, str]:
    """The metadata of a file whose zones and density come from two networks (training.model
    .ComposedSegmenter): what each was trained on, and the density network's config so tools can rebuild
    it. Both must have been trained at one size: the close-up scale the runtime brings photos to is one
    number for the file."""
    if zones_cfg.data.size != density_cfg.data.size:
        raise ValueError(
            f"the zones network was trained at {zones_cfg.data.size} px and the density network at "
            f"{density_cfg.data.size} px; a file has one close-up scale, so they must match"
        )
    return {
        "smpvision.model": f"composite: zones {zones_cfg.model.name}, density {density_cfg.model.name}",
        "smpvision.training_data": (
            f"zones network: {training_summary(zones_stages)}. "
            f"Density network: {training_summary(density_stages)}"
        ),
        DENSITY_CONFIG_KEY: json.dumps(to_dict(density_cfg)),
    }


def config_from_metadata(meta: dict[str, str], key: str = "smpvision.training_config") -> TrainConfig:
    """A training config stored in an exported file's metadata (the zones network's by default)."""
    return from_dict(TrainConfig, json.loads(meta[key]))


def network_from_metadata(meta: dict[str, str]) -> nn.Module:
    """The untrained network of an exported file, from the configs in its metadata: one network, or a
    ComposedSegmenter when its density comes from a second one (composite_metadata)."""
    net = build_model(config_from_metadata(meta))
    if DENSITY_CONFIG_KEY not in meta:
        return net
    return ComposedSegmenter(net, build_model(config_from_metadata(meta, DENSITY_CONFIG_KEY)))


@dataclass
class ExportReport:
    path: Path
    size_mb: float
    max_abs_diff_zones: float
    max_abs_diff_density_rel: float
    parity_size: tuple[int, int]


def export_onnx(
    net: nn.Module,
    cfg: TrainConfig,
    path: str | Path,
    step: int = 0,
    world_size: int = 1,
    stages: list[dict] | None = None,
    trace_size: tuple[int, int] = (256, 256),
    check_size: tuple[int, int] = (200, 328),
    tolerance: float = 1e-3,
    zone_bias: Sequence[float] | None = None,
    extra_metadata: dict[str, str] | None = None,
) -> ExportReport:
    """Export, then verify with the onnx checker and ORT-vs-torch parity at `check_size`.

    zone_bias: one value per zone class added to the zone logits before the softmax in the graph (a
    class-prior shift, e.g. fitted by benchmarks/zone_prior.py); recorded as `smpvision.zone_logit_bias`.
    It is set on `net` (`serving_zone_bias`; on its zones network for a composite), so the torch parity
    check sees the same graph. extra_metadata: keys that replace or add to the file's metadata (e.g.
    composite_metadata)."""
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = dict(extra_metadata or {})
    if zone_bias is not None:
        if len(zone_bias) != len(ZONE_CLASSES) or not all(np.isfinite(zone_bias)):
            raise ValueError(f"zone_bias needs {len(ZONE_CLASSES)} finite values, one per zone class")
        zones_net = getattr(net, "zones_net", net)
        zones_net.serving_zone_bias = torch.tensor([float(v) for v in zone_bias], dtype=torch.float32)
        extra["smpvision.zone_logit_bias"] = json.dumps([float(v) for v in zone_bias])
    serving = ServingModel(net.cpu().eval()).eval()
    example = torch.randint(0, 256, (1, *trace_size, 3), dtype=torch.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            serving,
            (example,),
            str(path),
            input_names=["image"],
            output_names=["zones", "density"],
            dynamic_axes={
                "image": {0: "N", 1: "H", 2: "W"},
                "zones": {0: "N", 2: "H", 3: "W"},
                "density": {0: "N", 2: "H", 3: "W"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load(str(path))
    # DESIGN.md fixes the channels: zones [N, 5, H, W], density [N, 1, H, W]. The tracer leaves them as
    # one symbol shared by both outputs ("Resizezones_dim_1"), which tells a caller reading the shapes
    # that the two are equal and unknown
    for output, channels in zip(model.graph.output, (len(ZONE_CLASSES), 1), strict=True):
        dim = output.type.tensor_type.shape.dim[1]
        dim.Clear()
        dim.dim_value = channels
    for key, value in metadata(net, cfg, step, world_size, extra=extra, stages=stages).items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = "smpvision scalp zones + hair density; see metadata_props"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    zones_diff, density_diff = ort_parity(serving, path, check_size)
    if zones_diff > tolerance or density_diff > tolerance:
        raise RuntimeError(
            f"ONNX Runtime disagrees with torch at {check_size}: zones max diff {zones_diff:.2e}, density "
            f"relative diff {density_diff:.2e} (tolerance {tolerance:.0e}); the export is not usable"
        )
    return ExportReport(path, path.stat().st_size / 1e6, zones_diff, density_diff, check_size)


def ort_parity(serving: nn.Module, path: Path, size: tuple[int, int], batch: int = 2) -> tuple[float, float]:
    """Max |ORT − torch| of zone probabilities, and of density relative to its max, on random images."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (batch, *size, 3), dtype=np.uint8)
    with torch.no_grad():
        zt, dt = (t.numpy() for t in serving(torch.from_numpy(image)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    zo, do = session.run(["zones", "density"], {"image": image})
    if zo.shape != zt.shape or do.shape != dt.shape:
        raise RuntimeError(
            f"ONNX output shapes {zo.shape}, {do.shape} differ from torch {zt.shape}, {dt.shape}"
        )
    return float(np.abs(zo - zt).max()), float(np.abs(do - dt).max() / max(float(np.abs(dt).max()), 1e-12))


def _image_convolutions(model) -> list[str]:
    """Convolutions that read 3 channels (the normalisation and each network's stem, at full or half
    resolution): left in float by quantize_int8. In int8 they profiled 1.5-2.2x slower than in float
    (0.8 → 1.8 ms for the normalisation at 512×512, 2 threads; MODEL_CARD.md, "Version 3.1")."""
    weights = {t.name: tuple(t.dims) for t in model.graph.initializer}  # Conv weight: (out, in/group, kh, kw)
    return [
        n.name
        for n in model.graph.node
        if n.op_type == "Conv" and n.name and weights.get(n.input[1], (0, 0))[1:2] == (3,)
    ]


def quantize_int8(
    fp32_path: str | Path, int8_path: str | Path, calibration: list[np.ndarray] | None = None
) -> Path:
    """Static int8 (QDQ, per-channel weights) with onnxruntime's quantization tools, calibrated on
    rendered scalps (activation ranges need real-looking inputs); metadata is carried over.

    Static rather than dynamic: dynamic quantization turns convolutions into ConvInteger, which ONNX
    Runtime runs slower than float on CPU; QDQ convolutions fuse into QLinearConv."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from smpvision.synth import render_sample

    if calibration is None:
        calibration = [render_sample((CALIBRATION_TAG, i), size=256).image for i in range(24)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"image": img[None]} for img in calibration])

        def get_next(self) -> dict | None:
            return next(self.items, None)

    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    prepared = int8_path.with_suffix(".prep.onnx")
    # ONNX Runtime's symbolic shape inference fails on the serving softmax's ReduceMax (opset 18 takes its
    # axes as an input); ONNX's own shape inference, which still runs, is enough: the int8 file made from
    # the version-3 fp32 file this way gives the outputs of the one made with symbolic inference bit for bit
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
    try:
        quantize_static(
            str(prepared),
            str(int8_path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            # the graph's tail stays float: softmax and softplus are not in this list, so the Resize to
            # input size that reads them is not quantized either (quantizing them costs accuracy in the
            # probabilities and the tiny close-up densities). Relu, Resize and Concat inside the network
            # are: left in float, each was wrapped in dequantize/quantize nodes; with them, 5 % fewer
            # instructions and argmax agreement with fp32 97.6 → 98.1 % on 40 rendered scenes
            # (MODEL_CARD.md, "Re-quantized int8")
            op_types_to_quantize=[
                *("Conv", "MatMul", "Add", "Mul", "HardSigmoid", "GlobalAveragePool"),
                *("Relu", "Resize", "Concat"),
            ],
            nodes_to_exclude=_image_convolutions(onnx.load(str(prepared))),
        )
    finally:
        prepared.unlink(missing_ok=True)
    src, dst = onnx.load(str(fp32_path)), onnx.load(str(int8_path))
    del dst.metadata_props[:]
    for prop in src.metadata_props:
        value = prop.value + (" (int8 static QDQ)" if prop.key == "smpvision.model" else "")
        dst.metadata_props.add(key=prop.key, value=value)
    onnx.save(dst, str(int8_path))
    return int8_path
