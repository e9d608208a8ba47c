"""Typed training configuration loaded from commented YAML; unknown keys are rejected.

A config is a tree of dataclasses. `load_config(path, overrides)` reads the YAML, applies `a.b=value`
overrides (values parsed as YAML, so `optim.lr=1e-3` is a float) and validates every key, so a typo in an
experiment file fails at start-up instead of silently training with a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says which key and why."""


@dataclass
class FolderSource:
    path: str  # an annotated-photo folder (images/, zones/, labels/)
    weight: float = 1.0  # relative to data.render_weight


@dataclass
class DataConfig:
    size: int = 256  # training crop, px (square)
    closeup_fraction: float = 0.35  # share of rendered samples that are close-ups
    negative_fraction: float = 0.0  # share of rendered samples with no scalp at all (walls, rooms, fabric)
    render_weight: float = 1.0  # weight of the rendered stream against folders
    reuse: int = 4  # augmented views drawn from each rendered sample (rendering costs more than a step)
    workers: int = 1  # DataLoader workers per process
    folders: list[FolderSource] = field(default_factory=list)
    augment: str = "train"  # albumentations preset name (training/augment.py)
    # "ignore": close-ups learn scar / background / "some scalp zone" + density, not which of hair,
    # thinning, bald (the runtime judges that from hairs/cm²); "train": learn all classes there too
    closeup_zones: str = "ignore"
    # rendered whole-head zones the pixels do not show (synth Sample.hidden) are learnt as "some scalp
    # zone", or ignored at the bald-forehead edge; False learns the drawn zones everywhere
    visible_zones: bool = True
    # "": close-ups from either device, as the renderer draws them; "trichoscope" or "macro": every
    # rendered close-up from that one (a probe of what one kind of field teaches; MODEL_CARD.md, "v2.11").
    # Training-time validation still draws both devices
    closeup_region: str = ""
    # hairloss-levels/ folder (CC BY 4.0, realdata/README.md): photos of its training persons add the weak
    # severity and no-scar losses (training/weak.py); "" = rendered data (and folders) only
    levels: str = ""
    levels_pairs: int = 3  # (higher, lower) level pairs per step, forwarded in the same batch


@dataclass
class ModelConfig:
    name: str = "mobilenet_v3_small_fpn"
    width: int = 64  # decoder channels
    # a head regressing the relative hair density D; served zones then split hair/thinning/bald by D at
    # the renderer's thresholds (the classifier still decides background, scar and "scalp"). Tried for an
    # hour: thinning found, bald lost (smpvision/models/MODEL_CARD.md), so off by default
    relative_density: bool = False
    # "shared": zones and density read one FPN decoder; "separate": density has its own decoder
    density_decoder: str = "shared"
    # "separate" only: share of the density losses' gradient that reaches the backbone (0 = none)
    density_backbone_grad: float = 1.0
    # "separate" only: the density decoder's channels (0 = width); narrower costs less at stride 4
    density_width: int = 0
    # "separate" only: the density branch runs its own copy of the backbone's last N layers (started as
    # copies of them), so that optim.train_only=zones_and_tail can let those layers learn for the zones
    # while the hair count, which reads the copy, stays bit-identical. 0 = none
    density_tail: int = 0


@dataclass
class OptimConfig:
    batch_size: int = 16  # per process
    steps: int = 6000
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    max_minutes: float = 0.0  # wall-time budget; 0 = none. The LR schedule ends at whichever budget binds
    # BatchNorm layers keep their running statistics and normalise with them while training (eval mode;
    # their scale and shift still learn). Needed to fine-tune weights recovered from an ONNX file, where
    # each BatchNorm was folded into its convolution (training/from_onnx.py)
    freeze_batchnorm: bool = False
    # "": train every parameter. "density": only a separate density decoder learns, and the BatchNorm
    # statistics outside it are kept, so the zones stay bit-identical: fixes a model's hair counts
    # without touching the zones it was chosen for. "zones_decoder": only the zones' FPN decoder and head
    # learn (backbone and density frozen), so the hair counts stay bit-identical: better zones for a
    # model chosen for its counts. "zones_and_tail": the same plus the backbone's last model.density_tail
    # layers, which the density branch no longer reads (it has its own copy): the counts stay
    # bit-identical and the zones get features of their own at the coarsest strides
    train_only: str = ""
    # with init_from: warm-up and cosine start again at this run's first step, and steps / max_minutes
    # count from there. Off, a run started from another continues that run's schedule and budget (both
    # counters carry over), so a fine-tune of a finished run starts deep in its cosine tail: the decoder
    # fine-tunes v4wd / v4wt / v4wv (2026-12) trained at lr ≤ 0.0009 falling to 0, not the 0.005 set
    restart_schedule: bool = False


@dataclass
class LossConfig:
    dice_weight: float = 1.0
    density_weight: float = 1.0  # pixel loss on smoothed hair points
    count_weight: float = 1.0  # log-ratio of the integrated count
    # cross-entropy weight per zone class in id order; [] = all 1. Thinning is a thin band between hair
    # and bald that an unweighted model never predicts (the argmax rounds it to a neighbour).
    class_weights: list[float] = field(default_factory=list)
    relative_weight: float = 1.0  # L1 on the relative density (models with relative_density only)
    # KL divergence of the predicted hair layout from the true one (losses.layout_kl_loss); 0 = off, as
    # in every run before it. The total-variation layout term gives a sparse close-up's empty cells no
    # gradient; this one does
    layout_kl_weight: float = 0.0
    # weak losses on real hair-loss photos (data.levels only; training/weak.py)
    severity_weight: float = 1.0  # ranking hinge: a higher level shows more thinning + bald
    severity_margin: float = 0.05  # share of scalp the loss share must rise per level of the gap
    real_scar_weight: float = 1.0  # scar share of a hair-loss photo above real_scar_allowance
    real_scar_allowance: float = 0.02
    # an ONNX model whose density map replaces the hair points as the density target (training/teacher.py);
    # "" = learn from the hair points
    density_teacher: str = ""
    density_teacher_flips: int = 1  # 1, 2 or 4: the teacher's map averaged over that many flips of the photo


@dataclass
class TrainConfig:
    out_dir: str = "runs/default"
    seed: int = 1
    threads: int = 0  # torch intra-op threads per process; 0 = leave torch's default
    # a checkpoint to start from when out_dir has none: its weights (matched by name; a separate density
    # decoder missing there starts as a copy of the shared one), optimizer state, step and clock, so the
    # learning-rate schedule goes on where it stopped. "" = start from scratch
    init_from: str = ""
    log_every: int = 20
    checkpoint_every: int = 500
    val_samples: int = 64  # rendered held-out samples scored at each checkpoint
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} not found; see configs/ for examples")
        loaded = yaml.safe_load(path.read_text())
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of keys, not {type(loaded).__name__}")
        raw = loaded or {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. optim.lr=1e-3")
        node = raw
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = yaml.safe_load(value)
    return from_dict(TrainConfig, raw)


def from_dict(cls: type, raw: dict[str, Any], where: str = "") -> Any:
    """Build dataclass `cls` from a mapping, checking names and types recursively."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where or 'config'} must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(where + k for k in unknown)}; valid keys: {', '.join(sorted(names))}"
        )
    kwargs = {name: _coerce(hints[name], value, f"{where}{name}") for name, value in raw.items()}
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where + ".")
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is float:
        # YAML 1.1 reads "1e-3" (no dot) as a string, so numeric strings are accepted for floats
        try:
            if not isinstance(value, bool):
                return float(value)
        except (TypeError, ValueError):
            pass
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if hint in (int, str, bool) and type(value) is not hint:
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def dump_yaml(config: Any) -> str:
    return yaml.safe_dump(to_dict(config), sort_keys=False)
