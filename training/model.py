"""Network factory: a tiny registry of segmentation networks with two heads, `zones` and `density`.

Every network maps a normalised float image [N, 3, H, W] to a dict of named outputs at input size:
`zones` (class logits, [N, 5, H, W]) and `density` (hairs per pixel, non-negative, [N, 1, H, W]); built with
relative_density=True, also `relative` (the relative hair density D in 0..1, [N, 1, H, W]). Backbones are
torchvision's, always built with `weights=None`: nothing is downloaded.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models as tvm

from smpvision.contracts import ZONE_CLASSES
from smpvision.synth.patterns import BALD_MAX, HAIR_MIN

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}
DENSITY_DECODERS = ("shared", "separate")

# ImageNet statistics: the usual choice for torchvision backbones, and the ones the ONNX graph bakes in.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def preprocess(image: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] RGB → normalised float [N, 3, H, W]. The one preprocessing path: the training
    loop, evaluation and the exported ONNX graph all call this function."""
    x = image.permute(0, 3, 1, 2).to(torch.float32)
    # (x / 255 − mean) / std as one 1×1 convolution: in the exported graph ONNX Runtime's transpose
    # optimiser cannot move the layout change past it, so the normalisation runs on planar NCHW data;
    # as three element-wise ops it was moved to NHWC by the int8 pre-processing, where a broadcast over
    # a last axis of 3 cost ~7 ms of the 35 ms the int8 model took per 512×512 call (profiled)
    mean = torch.tensor(MEAN, dtype=x.dtype, device=x.device)
    std = torch.tensor(STD, dtype=x.dtype, device=x.device)
    return F.conv2d(x, torch.diag(1.0 / (255.0 * std)).view(3, 3, 1, 1), -mean / std)


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    def wrap(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        _REGISTRY[name] = factory
        return factory

    return wrap


def available_models() -> list[str]:
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs: object) -> nn.Module:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; valid names: {', '.join(available_models())}")
    return _REGISTRY[name](**kwargs)


def _separable(channels: int) -> nn.Sequential:
    """Depthwise 3×3 + pointwise 1×1: a full 3×3 at stride 4 costs 8× more and dominated the latency."""
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
        nn.Conv2d(channels, channels, 1, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(True),
    )


class FPNSegmenter(nn.Module):
    """Backbone taps at strides 4/8/16/32 → FPN top-down sum → stride-4 head → bilinear to input size.

    The decoder resamples each level to the size of the next finer tap, so any H and W work without padding.
    """

    def __init__(
        self,
        features: nn.Sequential,
        width: int = 64,
        num_classes: int = len(ZONE_CLASSES),
        relative_density: bool = False,
        density_decoder: str = "shared",
        density_backbone_grad: float = 1.0,
        density_width: int = 0,
        density_tail: int = 0,
    ):
        super().__init__()
        if density_decoder not in DENSITY_DECODERS:
            raise ValueError(f"density_decoder must be one of {DENSITY_DECODERS}, not {density_decoder!r}")
        self.features = features
        self.taps, channels = _find_taps(features)
        self.lateral = nn.ModuleList(nn.Conv2d(c, width, 1) for c in channels)
        self.smooth = nn.Sequential(_separable(width), _separable(width))
        self.zones_head = nn.Conv2d(width, num_classes, 1)
        # a separate density decoder may be narrower (density_width; 0 = width): at stride 4 its two
        # separable blocks cost as much as the shared decoder's (+19 % int8 instructions at width 64,
        # MODEL_CARD.md "Speed"), which puts int8 at the edge of its 20 ms target
        dw = (density_width or width) if density_decoder == "separate" else width
        self.density_head = nn.Conv2d(dw, 1, 1)
        # start near "almost no hair" so early steps do not predict huge counts on close-ups
        nn.init.constant_(self.density_head.bias, -4.0)
        # Hair / thinning / bald are thresholds on the relative density D (synth.patterns). Regressing D
        # and thresholding it gives the thinning band wherever D falls from hair to bald; as a class of
        # its own, weighted 3×, the band was never the argmax (IoU 0.003).
        self.relative_head = nn.Conv2d(width, 1, 1) if relative_density else None
        # serving splits the scalp probability by D; set False before export to serve the same checkpoint's
        # classifier zones instead (how the model card compared the two)
        self.zones_from_relative = relative_density
        # "separate": the density head reads its own FPN decoder, and the backbone gets its gradient
        # scaled by density_backbone_grad (0: the hair count no longer shapes the shared features). The
        # close-ups' count loss was measured to hold whole-head zones back (MODEL_CARD.md, "Tried and not
        # shipped": "what slows whole-head zones" and "a separate density decoder"). Registered last, so a
        # shared-decoder checkpoint's parameters keep their order (init_from_checkpoint maps them by name).
        self.density_backbone_grad = density_backbone_grad
        if density_decoder == "separate":
            self.density_lateral = nn.ModuleList(nn.Conv2d(c, dw, 1) for c in channels)
            self.density_smooth = nn.Sequential(_separable(dw), _separable(dw))
        else:
            self.density_lateral = self.density_smooth = None
        # the density branch's own copy of the backbone's last `density_tail` layers (model.density_tail);
        # registered after everything else for the same reason as the separate decoder
        if density_tail and density_decoder != "separate":
            raise ValueError("model.density_tail needs model.density_decoder=separate")
        if not 0 <= density_tail < len(features):
            raise ValueError(f"model.density_tail must be 0..{len(features) - 1}, got {density_tail}")
        self.tail_start = len(features) - density_tail
        self.density_tail = copy.deepcopy(features[self.tail_start :]) if density_tail else None
        # added to the zone logits before the serving softmax; not a weight (set by export, never trained)
        self.serving_zone_bias: torch.Tensor | None = None

    def forward(
        self, x: torch.Tensor, probabilities: bool = False, density: bool = True, zones: bool = True
    ) -> dict[str, torch.Tensor]:
        """`zones` are logits for training; with probabilities=True (serving) they are class
        probabilities, normalised at stride 4 before upsampling: a bilinear mix of distributions is still
        a distribution, and a full-resolution channel softmax cost more than the whole backbone.
        density=False leaves the density decoder and head out (no "density" key): a training step in
        which only the zones decoder learns has no use for a frozen decoder's forward pass. zones=False
        leaves the zones head out (no "zones" key): a ComposedSegmenter takes only the density."""
        size = x.shape[-2:]
        skips = []
        for i, layer in enumerate(self.features):
            if i == self.tail_start:
                at_tail = x
            x = layer(x)
            if i in self.taps:
                skips.append(x)
        # the zones' decoder, which a shared-decoder density head reads too; a density-only pass of a
        # separate-decoder network (a ComposedSegmenter's density network) has no use for it
        y = _decode(self.lateral, self.smooth, skips) if zones or self.density_lateral is None else None
        y_density = y
        if density and self.density_lateral is not None:
            if self.density_tail is not None:  # the copy's taps replace the shared tail's
                skips = [s for i, s in zip(self.taps, skips, strict=True) if i < self.tail_start]
                for i, layer in enumerate(self.density_tail, self.tail_start):
                    at_tail = layer(at_tail)
                    if i in self.taps:
                        skips.append(at_tail)
            g = self.density_backbone_grad
            if self.training and g != 1.0:  # same values forward; backward scaled by g into the backbone
                skips = [s * g + s.detach() * (1.0 - g) for s in skips]
            y_density = _decode(self.density_lateral, self.density_smooth, skips)
        out: dict[str, torch.Tensor] = {}
        relative = None
        if zones:  # the zones head runs before the density head, as in every exported file so far
            # (training/from_onnx.py matches a graph's convolutions to modules in execution order)
            logits = self.zones_head(y)
            relative = self.relative_head(y).sigmoid() if self.relative_head is not None else None
            if probabilities:
                if self.serving_zone_bias is not None:  # a class-prior shift chosen at export (export_onnx)
                    logits = logits + self.serving_zone_bias.to(logits.dtype).view(1, -1, 1, 1)
                logits = _channel_softmax(logits)
                if relative is not None and self.zones_from_relative:
                    logits = split_scalp_by_relative(logits, relative)
            out["zones"] = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        # density is predicted per stride-4 cell and spread over its pixels, so the map still integrates
        # to the count after upsampling (bilinear upsampling of a per-pixel rate preserves the sum)
        if density:
            rate = F.softplus(self.density_head(y_density))
            out["density"] = F.interpolate(rate, size=size, mode="bilinear", align_corners=False)
        if relative is not None and not probabilities:  # a training target; serving folds D into zones
            out["relative"] = F.interpolate(relative, size=size, mode="bilinear", align_corners=False)
        return out


class ComposedSegmenter(nn.Module):
    """Two networks reading the same image: `zones` from one, `density` from the other. No single network
    trained in the CPU hour both learnt the zones and counted real close-ups (MODEL_CARD.md: the v4w line
    against v2.1), so a file can hold one network chosen for each. Each runs only the head it serves."""

    def __init__(self, zones_net: nn.Module, density_net: nn.Module) -> None:
        super().__init__()
        self.zones_net = zones_net
        self.density_net = density_net

    def forward(
        self, x: torch.Tensor, probabilities: bool = False, density: bool = True
    ) -> dict[str, torch.Tensor]:
        out = self.zones_net(x, probabilities=probabilities, density=False)
        if density:
            out["density"] = self.density_net(x, probabilities=probabilities, zones=False)["density"]
        return out


def _channel_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the class channel. Traced for ONNX it is written out as max, subtract, exp, sum,
    divide: ONNX Runtime's Softmax over the channel axis (not the last one) took 1.0-1.1 ms for 5 × 128²
    values at 512×512 against 0.23-0.33 ms for these five element-wise ops (2 threads; the two agree to
    2e-7). Torch eager keeps its own softmax, so benchmarks/latency.py's torch column is not slowed."""
    if not torch.onnx.is_in_onnx_export():
        return logits.softmax(1)
    e = (logits - logits.amax(1, keepdim=True)).exp()
    return e / e.sum(1, keepdim=True)


def _decode(lateral: nn.ModuleList, smooth: nn.Module, skips: list[torch.Tensor]) -> torch.Tensor:
    """FPN top-down: coarsest tap first, each level resampled to the next finer tap and summed."""
    y = lateral[-1](skips[-1])
    for conv, skip in zip(lateral[-2::-1], skips[-2::-1], strict=True):
        y = conv(skip) + F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
    return smooth(y)


def split_scalp_by_relative(
    probs: torch.Tensor, relative: torch.Tensor, softness: float = 0.03
) -> torch.Tensor:
    """Zone probabilities [N, 5, h, w] with hair + thinning + bald re-divided by the predicted relative
    density [N, 1, h, w] at the renderer's thresholds (soft over ±`softness`): background and scar stay
    the classifier's, the scalp share is split by D. Still a distribution: the three weights sum to 1."""
    hair = torch.sigmoid((relative - HAIR_MIN) / softness)
    bald = torch.sigmoid((BALD_MAX - relative) / softness)
    thinning = (1 - hair - bald).clamp_min(0)
    weights = torch.cat([hair, thinning, bald], 1)
    weights = weights / weights.sum(1, keepdim=True)
    scalp = probs[:, 1:4].sum(1, keepdim=True)
    return torch.cat([probs[:, :1], scalp * weights, probs[:, 4:]], 1)


def _find_taps(features: nn.Sequential) -> tuple[list[int], list[int]]:
    """Index and channels of the last layer at each stride 4, 8, 16, 32 (found by a dummy forward)."""
    x = torch.zeros(1, 3, 64, 64)
    last_at: dict[int, tuple[int, int]] = {}
    was_training = features.training
    features.eval()
    with torch.no_grad():
        for i, layer in enumerate(features):
            x = layer(x)
            stride = 64 // x.shape[-1]
            if stride >= 4:
                last_at[stride] = (i, x.shape[1])
    features.train(was_training)
    picked = [last_at[s] for s in (4, 8, 16, 32)]
    return [i for i, _ in picked], [c for _, c in picked]


@register_model("mobilenet_v3_small_fpn")
def mobilenet_v3_small_fpn(width: int = 64, **options: object) -> nn.Module:
    """options: FPNSegmenter's relative_density, density_decoder, density_backbone_grad, density_width,
    density_tail."""
    return FPNSegmenter(tvm.mobilenet_v3_small(weights=None).features, width, **options)


@register_model("mobilenet_v3_large_fpn")
def mobilenet_v3_large_fpn(width: int = 96, **options: object) -> nn.Module:
    return FPNSegmenter(tvm.mobilenet_v3_large(weights=None).features, width, **options)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
