"""A training checkpoint recovered from an exported ONNX file, so a shipped model can be fine-tuned when the
run that made it is gone.

    python -m training.from_onnx smpvision/models/smpvision-zones.onnx runs/recovered/last.pt \
        [--elapsed-minutes 66]

The network is rebuilt from the training config in the file's metadata, and every convolution's weights
are read from the Conv node that runs it (graph order = execution order, checked shape by shape). The
export folded each BatchNorm into the convolution before it, so a recovered BatchNorm is at first the
identity plus the folded bias: exact in eval mode, but in training mode its batch statistics would undo the
folded scale. So its statistics are then measured on rendered calibration scenes (never training or
held-out seeds) and the BatchNorm is rewritten to normalise by them and scale back (γ = √(var + eps),
β = shift + mean): eval outputs are unchanged, and training mode sees the statistics it expects.
`--calibration-images 0` skips that; fine-tune such a checkpoint with `optim.freeze_batchnorm=true`.
Adam's moments are not in the file: a fine-tune starts them afresh. The training stages come from
`smpvision.training_data`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from training.config import TrainConfig, to_dict
from training.export import DENSITY_CONFIG_KEY, ServingModel, config_from_metadata, ort_parity
from training.train import build_model

_STAGE = re.compile(
    r"(?P<views>\d+) augmented views at (?P<size>\d+) px, (?P<closeup>\d+)% close-ups "
    r"(?:\(all (?P<region>\w+)\) )?"
    r"\((?:renderer v(?P<renderer>\d+)|renderer version not recorded)\)"
    r"(?:, only (?P<part>\w+) trained)?(?P<folders>(?:, folder [^;]+)?)"
)


def stages_from_summary(summary: str, views_per_step: int) -> list[dict]:
    """The stages `training.export.training_summary` wrote, read back (steps = views / views per step)."""
    stages, step = [], 0
    for m in _STAGE.finditer(summary):
        steps = int(m["views"]) // views_per_step
        folders = [f.strip() for f in m["folders"].split(", folder ") if f.strip()] if m["folders"] else []
        stage = {
            "from_step": step,
            "to_step": step + steps,
            "renderer": int(m["renderer"]) if m["renderer"] else None,
            "size": int(m["size"]),
            "closeup_fraction": int(m["closeup"]) / 100,
            "folders": folders,
            "views_per_step": views_per_step,
        }
        if m["region"]:
            stage["closeup_region"] = m["region"]
        if m["part"]:
            stage["train_only"] = m["part"]
        stages.append(stage)
        step += steps
    if not stages:
        raise ValueError(f"no training stages in {summary!r}")
    return stages


def _execution_order(model: nn.Module) -> list[nn.Module]:
    """Conv2d and BatchNorm2d modules in the order a forward pass runs them."""
    order: list[nn.Module] = []
    hooks = [
        m.register_forward_hook(lambda mod, *_: order.append(mod))
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.BatchNorm2d)
    ]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 64, 64), probabilities=True)
    for h in hooks:
        h.remove()
    return order


def recover_network(path: str | Path) -> tuple[nn.Module, TrainConfig, dict[str, str]]:
    """The torch network whose eval-mode outputs equal the ONNX file's; with its config and metadata."""
    import onnx
    from onnx import numpy_helper

    graph_model = onnx.load(str(path))
    if any(n.op_type in ("DequantizeLinear", "QLinearConv") for n in graph_model.graph.node):
        raise ValueError(f"{path} is quantized (int8): recover from the fp32 file it was made from")
    meta = {p.key: p.value for p in graph_model.metadata_props}
    if "smpvision.training_config" not in meta:
        raise ValueError(
            f"{path} has no smpvision.training_config metadata: not written by `smpvision export`"
        )
    if DENSITY_CONFIG_KEY in meta:
        raise ValueError(
            f"{path} holds two networks (zones from one, density from another; `smpvision export "
            "--density-from`): recover each from the file or checkpoint it came from"
        )
    cfg = config_from_metadata(meta)
    net = build_model(cfg)
    if "smpvision.zone_logit_bias" in meta:
        net.serving_zone_bias = torch.tensor(json.loads(meta["smpvision.zone_logit_bias"]))
    values = {t.name: numpy_helper.to_array(t) for t in graph_model.graph.initializer}
    for node in graph_model.graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Identity" and node.input[0] in values:  # the exporter's shared copies
            values[node.output[0]] = values[node.input[0]]
    # the first Conv is the normalisation inside the graph (training.model.preprocess), not a module
    conv_nodes = [n for n in graph_model.graph.node if n.op_type == "Conv"][1:]
    order = _execution_order(net)
    convs = [m for m in order if isinstance(m, nn.Conv2d)]
    if len(convs) != len(conv_nodes):
        raise ValueError(f"{path}: {len(conv_nodes)} Conv nodes for {len(convs)} convolutions in the network")
    # convolution → the BatchNorm that ran just after it (folded into it by the export)
    pairs = zip(order[:-1], order[1:], strict=True)
    bn_of = {id(m): nxt for m, nxt in pairs if isinstance(nxt, nn.BatchNorm2d)}
    with torch.no_grad():
        for conv, node in zip(convs, conv_nodes, strict=True):
            weight = torch.from_numpy(values[node.input[1]].copy())
            if weight.shape != conv.weight.shape:
                raise ValueError(
                    f"{path}: Conv node {node.name} has weights {tuple(weight.shape)}, the "
                    f"network expects {tuple(conv.weight.shape)}"
                )
            conv.weight.copy_(weight)
            bias = torch.from_numpy(values[node.input[2]].copy()) if len(node.input) > 2 else None
            bn = bn_of.get(id(conv))
            if bn is not None:  # identity normalisation, the folded shift as its bias
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
                bn.weight.fill_(1.0)
                bn.bias.copy_(bias if bias is not None else torch.zeros_like(bn.bias))
            elif conv.bias is not None:
                conv.bias.copy_(bias)
    return net.eval(), cfg, meta


@torch.no_grad()
def calibrate_batchnorm(net: nn.Module, images: list[np.ndarray], batch: int = 8) -> None:
    """Give every BatchNorm the per-channel mean m and variance v of its input over `images` (uint8 HWC, one
    size), keeping its eval-mode output s·x + t (s = γ / √(v₀ + eps), t = β − s·m₀): γ' = s·√(v + eps),
    β' = t + s·m."""
    from training.model import preprocess

    sums: dict[nn.Module, list[torch.Tensor]] = {}

    def record(module: nn.Module, inputs: tuple[torch.Tensor]) -> None:
        x = inputs[0].double()
        zeros = torch.zeros(x.shape[1], dtype=torch.float64)
        acc = sums.setdefault(module, [zeros, zeros.clone(), 0])  # sum, sum of squares, count
        acc[0] = acc[0] + x.sum((0, 2, 3))
        acc[1] = acc[1] + (x * x).sum((0, 2, 3))
        acc[2] += x.numel() // x.shape[1]

    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    hooks = [m.register_forward_pre_hook(record) for m in bns]
    net.eval()
    for i in range(0, len(images), batch):
        net(preprocess(torch.from_numpy(np.stack(images[i : i + batch]))), probabilities=True)
    for h in hooks:
        h.remove()
    for bn in bns:
        total, squares, n = sums[bn]
        mean = total / n
        var = (squares / n - mean * mean).clamp_min(0)
        old_scale = bn.weight.double() / (bn.running_var.double() + bn.eps).sqrt()
        old_shift = bn.bias.double() - old_scale * bn.running_mean.double()
        new_std = (var + bn.eps).sqrt()
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_(old_scale * new_std)
        bn.bias.copy_(old_shift + old_scale * mean)


def checkpoint_from_onnx(
    path: str | Path, out: str | Path, elapsed_minutes: float = 0.0, calibration_images: int = 64
) -> dict:
    """Write a checkpoint that `smpvision train init_from=OUT` starts from; returns its parity figures.

    With calibration_images=0 the BatchNorms stay identities and the checkpoint's config sets
    optim.freeze_batchnorm (required then, see the module docstring)."""
    from smpvision.synth import render_sample
    from training.seeds import CALIBRATION_TAG

    net, cfg, meta = recover_network(path)
    if calibration_images > 0:  # a seed range of the calibration space that int8 calibration does not use
        d = cfg.data
        scenes = [render_sample((CALIBRATION_TAG, 10_000 + i), d.size, closeup_fraction=d.closeup_fraction)
                  for i in range(calibration_images)]  # fmt: skip
        calibrate_batchnorm(net, [s.image for s in scenes])
    zones_diff, density_diff = ort_parity(ServingModel(net).eval(), Path(path), (200, 328))
    if zones_diff > 1e-3 or density_diff > 1e-3:
        raise RuntimeError(f"recovered network disagrees with {path}: {zones_diff:.1e}, {density_diff:.1e}")
    cfg.optim.freeze_batchnorm = calibration_images == 0
    stages = stages_from_summary(meta["smpvision.training_data"], cfg.optim.batch_size)
    net.serving_zone_bias = None  # an export-time choice, not a weight: a fine-tune refits it
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    ckpt = {
        "model": net.state_dict(),
        "optimizer": opt.state_dict(),
        "step": stages[-1]["to_step"],
        "elapsed_s": 60.0 * elapsed_minutes,
        "world_size": 1,
        "config": to_dict(cfg),
        "stages": stages,
        "recovered_from": {"onnx": str(path), "weights_sha256": meta.get("smpvision.weights_sha256")},
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, out)
    return {"zones_max_diff": zones_diff, "density_max_rel_diff": density_diff, "step": ckpt["step"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("onnx", type=Path, help="an fp32 ONNX file written by `smpvision export`")
    ap.add_argument("out", type=Path, help="checkpoint to write (e.g. runs/recovered/last.pt)")
    ap.add_argument(
        "--elapsed-minutes",
        type=float,
        default=0.0,
        help="training minutes the model already had (not in the file; a max_minutes LR schedule uses it)",
    )
    ap.add_argument(
        "--calibration-images",
        type=int,
        default=64,
        help="rendered scenes to measure BatchNorm statistics on (0: keep the folded identity BatchNorms, "
        "then fine-tune with optim.freeze_batchnorm=true)",
    )
    args = ap.parse_args(argv)
    if not args.onnx.is_file():
        ap.error(f"{args.onnx}: no such file")
    if args.calibration_images < 0:
        ap.error("--calibration-images must be 0 or more")
    try:
        report = checkpoint_from_onnx(args.onnx, args.out, args.elapsed_minutes, args.calibration_images)
    except (ValueError, RuntimeError) as err:  # not our file, int8, or the recovery disagrees: say which
        ap.exit(1, f"from_onnx: {err}\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
