"""The training loop: `fit(config)`. Runs alone or under `torchrun --nproc_per_node N` (DDP: gloo on
CPU, NCCL on GPU). Rank 0 logs, validates and writes checkpoints; every checkpoint carries its config.

The learning rate follows warm-up then cosine decay over whichever budget binds first: `optim.steps` or
`optim.max_minutes` of wall time, so a run sized for a fast machine still ends cleanly on a slow one. A run
started with `init_from` continues the other run's schedule and budget unless `optim.restart_schedule`.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from smpvision.cli import Progress
from smpvision.synth import RENDERER_VERSION

from .config import TrainConfig, dump_yaml, from_dict, to_dict
from .data import ScalpStream
from .evaluate import rendered_heldout, score_samples
from .losses import total_loss
from .model import create_model, preprocess
from .teacher import DensityTeacher, teach
from .weak import LevelPairs, weak_level_losses

CHECKPOINT = "last.pt"


def init_distributed() -> tuple[int, int, torch.device]:
    """(rank, world size, device); sets up the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def build_model(cfg: TrainConfig) -> torch.nn.Module:
    m = cfg.model
    return create_model(
        m.name,
        width=m.width,
        relative_density=m.relative_density,
        density_decoder=m.density_decoder,
        density_backbone_grad=m.density_backbone_grad,
        density_width=m.density_width,
        density_tail=m.density_tail,
    )


# a separate density decoder's parameters start as copies of the shared decoder's, a density tail's as
# copies of the backbone layers it doubles (it keeps their numbers: density_tail.9. copies features.9.)
_DENSITY_COPY_OF = {
    "density_lateral.": "lateral.",
    "density_smooth.": "smooth.",
    "density_tail.": "features.",
}
# a narrower separate density decoder (model.density_width) has no weights to copy: it starts fresh
_DENSITY_DECODER = ("density_lateral.", "density_smooth.", "density_head.")
# the density branch: its decoder and head, and its own backbone tail when it has one
_DENSITY_BRANCH = (*_DENSITY_DECODER, "density_tail.")
# the zones' own FPN decoder and head (with a separate density decoder, nothing else reads them)
_ZONES_DECODER = ("lateral.", "smooth.", "zones_head.")
# optim.train_only: the parameters each named part trains; "zones_and_tail" adds the backbone layers the
# density branch has its own copy of (model.density_tail), named per model by _tail_layers
_TRAINABLE_PARTS = {
    "density": _DENSITY_BRANCH,
    "zones_decoder": _ZONES_DECODER,
    "zones_and_tail": _ZONES_DECODER,
}


def _tail_layers(model: torch.nn.Module) -> tuple[str, ...]:
    """Parameter-name prefixes of the backbone layers the density branch has its own copy of."""
    if getattr(model, "density_tail", None) is None:
        return ()
    return tuple(f"features.{i}." for i in range(model.tail_start, len(model.features)))


def _source_name(name: str, shape: torch.Size, available: dict) -> str | None:
    """The checkpoint tensor that `name` starts from: itself, the shared decoder's for a separate
    density decoder, or the backbone layer a density tail layer copies; None when there is none of that
    shape."""
    candidates = [name] + [
        old + name[len(new) :] for new, old in _DENSITY_COPY_OF.items() if name.startswith(new)
    ]
    return next((c for c in candidates if c in available and available[c].shape == shape), None)


def init_from_checkpoint(model: torch.nn.Module, opt: torch.optim.Optimizer, path: str | Path) -> dict:
    """Load another run's checkpoint into this (possibly wider) network and optimizer, matching
    parameters, buffers and Adam moments by name; returns the checkpoint (for step, clock and stages).
    Every tensor of `model` must be found in the checkpoint, be a copy named in _DENSITY_COPY_OF, or belong
    to a density decoder narrower than the checkpoint's (those keep their fresh initialisation).
    The optimizer has one parameter group, as `fit` builds it."""
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    old_state = ckpt["model"]
    new_state = model.state_dict()
    sources = {k: _source_name(k, v.shape, old_state) for k, v in new_state.items()}
    # only a separate density decoder may start fresh; startswith(()) is always False
    branch = _DENSITY_DECODER if getattr(model, "density_lateral", None) is not None else ()
    if any(src is None for k, src in sources.items() if k.startswith(branch)):
        # another width: none of the branch is copied (a head bias of the right shape would still not fit)
        sources.update({k: None for k in sources if k.startswith(branch)})
    missing = [k for k, src in sources.items() if src is None and not k.startswith(branch)]
    if missing:
        raise ValueError(f"{path}: no weights for {', '.join(missing[:5])}; it is another kind of network")
    model.load_state_dict({k: old_state[src] if src else new_state[k] for k, src in sources.items()})
    # optimizer state is keyed by parameter position: map positions through the parameter names
    old_model = build_model(from_dict(TrainConfig, ckpt["config"]))
    old_index = {name: i for i, (name, _) in enumerate(old_model.named_parameters())}
    old_opt = ckpt["optimizer"]
    state = {}
    for i, (name, _) in enumerate(model.named_parameters()):
        j = old_index.get(sources[name]) if sources[name] else None
        if j is not None and j in old_opt["state"]:
            state[i] = {k: v.clone() if torch.is_tensor(v) else v for k, v in old_opt["state"][j].items()}
    group = {**old_opt["param_groups"][0], "params": list(range(len(list(model.parameters()))))}
    opt.load_state_dict({"state": state, "param_groups": [group]})
    return ckpt


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[torch.nn.Module, TrainConfig, dict]:
    """Rebuild the network from the config stored inside the checkpoint; no YAML needed."""
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    cfg = from_dict(TrainConfig, ckpt["config"])
    model = build_model(cfg)
    model.load_state_dict(ckpt["model"])
    return model, cfg, ckpt


def training_stage(
    cfg: TrainConfig,
    from_step: int,
    world: int,
    renderer: int | None = RENDERER_VERSION,
    to_step: int | None = None,
) -> dict:
    """What a stretch of training saw. A fine-tune on other data (another renderer version, size, close-up
    share, close-up device or folders; or another batch size or process count, which changes the views per
    step) is a new stage, so the exported model's training summary can say what it learnt from."""
    stage = {
        "from_step": from_step,
        "to_step": from_step if to_step is None else to_step,
        "renderer": renderer,
        "size": cfg.data.size,
        "closeup_fraction": cfg.data.closeup_fraction,
        "folders": [f"{f.path} (weight {f.weight})" for f in cfg.data.folders],
        "views_per_step": cfg.optim.batch_size * world,
    }
    if cfg.data.closeup_region:  # only when set: stages recorded before the option stay equal
        stage["closeup_region"] = cfg.data.closeup_region
    if cfg.data.levels:
        stage["levels_pairs_per_step"] = cfg.data.levels_pairs
    if cfg.optim.train_only:  # a stage that trained only part of the network says which
        stage["train_only"] = cfg.optim.train_only
    return stage


def checkpoint_stages(ckpt: dict) -> list[dict]:
    """The checkpoint's training stages. Checkpoints written before stages were recorded count as one
    stage from their own config, with the renderer version unknown (None)."""
    if ckpt.get("stages"):
        return [dict(s) for s in ckpt["stages"]]
    cfg = from_dict(TrainConfig, ckpt["config"])
    return [training_stage(cfg, 0, int(ckpt.get("world_size", 1)), renderer=None, to_step=int(ckpt["step"]))]


def continue_stages(stages: list[dict], cfg: TrainConfig, step: int, world: int) -> list[dict]:
    """Stages with this run appended, or merged into the last one when it trains on the same data."""
    new = training_stage(cfg, step, world)
    if stages and _data_of(stages[-1]) == _data_of(new):
        return stages
    return [*stages, new]


def _data_of(stage: dict) -> dict:
    return {k: v for k, v in stage.items() if k not in ("from_step", "to_step")}


def learning_rate(cfg: TrainConfig, step: int, elapsed_s: float) -> float:
    o = cfg.optim
    if step < o.warmup_steps:
        return o.lr * (step + 1) / o.warmup_steps
    progress = step / o.steps
    if o.max_minutes > 0:
        progress = max(progress, elapsed_s / (60 * o.max_minutes))
    return o.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def validate(model: torch.nn.Module, samples: list, device: torch.device, closeup_zones: str) -> dict:
    """Held-out scores with the same scoring as `smpvision evaluate` (incl. the close-up zone policy)."""

    def segment(image: np.ndarray, label: dict) -> SimpleNamespace:
        # probabilities=True: served zones (a relative-density model splits hair/thinning/bald by D)
        out = model(preprocess(torch.from_numpy(image)[None].to(device)), probabilities=True)
        zones = out["zones"][0].argmax(0).to(torch.uint8).cpu().numpy()
        return SimpleNamespace(zones=zones, hair_count=float(out["density"].sum()))

    was_training = model.training
    model.eval()
    scores = score_samples(samples, segment, closeup_policy=closeup_zones)["all"]
    model.train(was_training)
    return {
        "val_miou": scores["miou_thinning_bald_scar"],
        "val_count_median": scores["hair_count"]["median_rel_error"],
    }


def fit(cfg: TrainConfig, resume: bool = True) -> Path:
    """Train; returns the path of the final checkpoint. Resumes from out_dir/last.pt when it exists."""
    if cfg.loss.density_teacher and not density_learns(cfg):
        part = cfg.optim.train_only
        raise ValueError(f"loss.density_teacher does nothing with optim.train_only={part} (the density "
                         "decoder is frozen and not run); leave one of them out")  # fmt: skip
    rank, world, device = init_distributed()
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out_dir = Path(cfg.out_dir)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.yaml").write_text(dump_yaml(cfg))

    model = build_model(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    step, elapsed, stages = 0, 0.0, []
    origin = (0, 0.0)  # step and elapsed seconds the LR schedule and the budgets count from
    ckpt_path = out_dir / CHECKPOINT
    ckpt, source = None, ""
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        source = f"resumed from {ckpt_path}"
        origin = tuple(ckpt.get("schedule_origin", origin))
    elif cfg.init_from:  # another run's checkpoint, into this run's (possibly wider) network
        ckpt = init_from_checkpoint(model, opt, cfg.init_from)
        source = f"started from {cfg.init_from}"
        if cfg.optim.restart_schedule:
            origin = (int(ckpt["step"]), float(ckpt["elapsed_s"]))
    if ckpt is not None:
        step, elapsed = int(ckpt["step"]), float(ckpt["elapsed_s"])
        stages = checkpoint_stages(ckpt)
        if rank == 0:
            print(f"{source} at step {step}", file=sys.stderr)
    stages = continue_stages(stages, cfg, step, world)
    restrict_trainable(model, cfg.optim.train_only)
    net = DistributedDataParallel(model) if world > 1 else model

    loader = DataLoader(
        ScalpStream(cfg.data, seed=cfg.seed + 1000 * step, rank=rank),  # a resumed run sees new scenes
        batch_size=cfg.optim.batch_size,
        num_workers=cfg.data.workers,
        persistent_workers=cfg.data.workers > 0,
        pin_memory=device.type == "cuda",
    )
    val = []
    if rank == 0:
        d = cfg.data
        val = list(rendered_heldout(cfg.val_samples, d.size, d.closeup_fraction, d.visible_zones))
    levels = None
    if cfg.data.levels:  # real hair-loss photos for the weak losses; a resumed run draws new pairs
        levels = LevelPairs(cfg.data.levels, cfg.data.size, seed=cfg.seed + 1000 * step + rank)
    teacher = None
    if cfg.loss.density_teacher:
        teacher = DensityTeacher(cfg.loss.density_teacher, flips=cfg.loss.density_teacher_flips)
    log = _CsvLog(out_dir / "metrics.csv") if rank == 0 else None
    start_step = step
    progress = Progress(cfg.optim.steps - (start_step - origin[0]), f"train (from step {start_step})")
    t_start = time.time() - elapsed
    set_train_mode(net, cfg)
    for batch in loader:
        elapsed = _agreed_elapsed(time.time() - t_start, device)
        run_step, run_elapsed = step - origin[0], elapsed - origin[1]
        if run_step >= cfg.optim.steps or (
            cfg.optim.max_minutes > 0 and run_elapsed >= 60 * cfg.optim.max_minutes
        ):
            break
        lr = learning_rate(cfg, run_step, run_elapsed)
        for group in opt.param_groups:
            group["lr"] = lr
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        if teacher is not None:
            batch = teach(batch, teacher)
        losses = _step_losses(net, batch, levels, cfg)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if rank == 0:
            values = {k: float(v.detach()) for k, v in losses.items()}
            if step % cfg.log_every == 0 or step == 1:
                progress.update(
                    step - start_step, " ".join(f"{k} {v:.3f}" for k, v in values.items()) + " | "
                )
                log.write({"step": step, "elapsed_s": round(elapsed, 1), "lr": lr, **values})
            if step % cfg.checkpoint_every == 0:
                log.write(
                    {
                        "step": step,
                        "elapsed_s": round(elapsed, 1),
                        **validate(model, val, device, cfg.data.closeup_zones),
                    }
                )
                set_train_mode(model, cfg)
                _save(ckpt_path, model, opt, step, elapsed, cfg, stages, origin)
    if rank == 0:
        final = validate(model, val, device, cfg.data.closeup_zones)
        log.write({"step": step, "elapsed_s": round(elapsed, 1), **final})
        _save(ckpt_path, model, opt, step, elapsed, cfg, stages, origin)
        progress.close()
        print(f"finished at step {step} after {elapsed / 60:.1f} min; held-out {final}", file=sys.stderr)
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return ckpt_path


def _step_losses(net: torch.nn.Module, batch: dict, levels: LevelPairs | None, cfg: TrainConfig) -> dict:
    """The losses of one step. Real hair-loss photos (data.levels) ride in the same forward pass as the
    rendered batch, so BatchNorm's statistics see both kinds of photo. When only the zones decoder learns,
    the frozen density decoder is not run: its losses could not change anything."""
    density = density_learns(cfg)
    if levels is None:
        return total_loss(net(preprocess(batch["image"]), density=density), batch, cfg.loss)
    real = levels.sample(cfg.data.levels_pairs)
    n = batch["image"].shape[0]
    images = torch.cat([batch["image"], real["images"].to(batch["image"].device)])
    out = net(preprocess(images), density=density)
    losses = total_loss({k: v[:n] for k, v in out.items()}, batch, cfg.loss)
    lc = cfg.loss
    weak = weak_level_losses(
        out["zones"][n:], real["levels"].to(images.device), lc.severity_margin, lc.real_scar_allowance
    )
    losses["loss"] = (
        losses["loss"]
        + cfg.loss.severity_weight * weak["severity_rank"]
        + cfg.loss.real_scar_weight * weak["real_scar"]
    )
    return {**losses, **weak}


def density_learns(cfg: TrainConfig) -> bool:
    """Whether any part of the density branch trains: not when only the zones decoder does, and then
    neither its forward pass in a training step nor a density teacher has any use."""
    return cfg.optim.train_only not in ("zones_decoder", "zones_and_tail")


def restrict_trainable(model: torch.nn.Module, train_only: str) -> None:
    """optim.train_only: freeze every parameter outside the named part. A frozen parameter gets no
    gradient, and AdamW leaves a parameter without one untouched (weight decay included); set_train_mode
    keeps the frozen part's BatchNorm statistics. Both parts need a separate density decoder: with a
    shared one, training either decoder would change the other output."""
    if not train_only:
        return
    if train_only not in _TRAINABLE_PARTS:
        parts = ", ".join(_TRAINABLE_PARTS)
        raise ValueError(f"optim.train_only must be '' or one of {parts}, got {train_only!r}")
    if getattr(model, "density_lateral", None) is None:
        raise ValueError(f"optim.train_only={train_only} needs model.density_decoder=separate")
    trainable = _TRAINABLE_PARTS[train_only]
    if train_only == "zones_and_tail":
        if not _tail_layers(model):
            raise ValueError("optim.train_only=zones_and_tail needs model.density_tail > 0")
        trainable = trainable + _tail_layers(model)
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith(trainable))


def set_train_mode(model: torch.nn.Module, cfg: TrainConfig) -> None:
    """Training mode, with BatchNorm in eval mode (running statistics kept) where nothing around it
    learns: every BatchNorm when cfg.optim.freeze_batchnorm, else those restrict_trainable froze (their
    statistics would otherwise drift and change the outputs of a part meant to stay as it was)."""
    model.train()
    for module in model.modules():
        if not isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            continue
        frozen = cfg.optim.train_only and not any(p.requires_grad for p in module.parameters())
        if cfg.optim.freeze_batchnorm or frozen:
            module.eval()


def _agreed_elapsed(elapsed: float, device: torch.device) -> float:
    """All ranks must stop at the same step or DDP hangs: use rank 0's clock."""
    if not dist.is_initialized():
        return elapsed
    t = torch.tensor([elapsed], dtype=torch.float64, device=device)
    dist.broadcast(t, 0)
    return float(t.item())


def _save(
    path: Path, model, opt, step: int, elapsed: float, cfg: TrainConfig, stages: list[dict],
    origin: tuple[int, float] = (0, 0.0),
) -> None:  # fmt: skip
    world = dist.get_world_size() if dist.is_initialized() else 1
    stages[-1]["to_step"] = step
    tmp = path.with_suffix(".tmp")  # write then rename: an interrupted save never corrupts last.pt
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step,
            "elapsed_s": elapsed,
            "world_size": world,
            "config": to_dict(cfg),
            "stages": stages,
            "schedule_origin": list(origin),
        },
        tmp,
    )
    tmp.replace(path)


class _CsvLog:
    """Append-only CSV of every logged value; TensorBoard too when it is installed."""

    FIELDS = [
        "step",
        "elapsed_s",
        "lr",
        "loss",
        "ce",
        "dice",
        "density",
        "count",
        "val_miou",
        "val_count_median",
        "relative",  # new columns go last: a run resumed in an older directory keeps its columns aligned
        "layout_kl",
        "severity_rank",
        "real_scar",
    ]

    def __init__(self, path: Path) -> None:
        new = not path.exists()
        self.file = path.open("a", newline="")
        self.writer = csv.DictWriter(self.file, self.FIELDS)
        if new:
            self.writer.writeheader()
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(path.parent / "tb"))
        except ImportError:
            self.tb = None

    def write(self, row: dict) -> None:
        self.writer.writerow({k: (round(v, 5) if isinstance(v, float) else v) for k, v in row.items()})
        self.file.flush()
        if self.tb is not None:
            for k, v in row.items():
                if k != "step" and isinstance(v, float | int) and not isinstance(v, bool) and v is not None:
                    self.tb.add_scalar(k, v, row["step"])
