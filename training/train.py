"""The training loop: `fit(config)`. Runs alone or under `torchrun --nproc_per_node N` (DDP: gloo on
CPU, NCCL on GPU). Rank 0 logs, validates and writes checkpoints; every checkpoint carries its config.

The learning rate follows warm-up then cosine decay over whichever budget binds first: `optim.steps` or
`optim.max_minutes` of wall time, so a run sized for a fast machine still ends cleanly on a slow one.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from smpvision.synth import render_sample

from .config import TrainConfig, dump_yaml, from_dict, to_dict
from .data import ScalpStream
from .losses import total_loss
from .metrics import ZoneScores, count_error, summarise_counts
from .model import create_model, preprocess
from .seeds import heldout_seed

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
    return create_model(cfg.model.name, width=cfg.model.width)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[torch.nn.Module, TrainConfig, dict]:
    """Rebuild the network from the config stored inside the checkpoint; no YAML needed."""
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    cfg = from_dict(TrainConfig, ckpt["config"])
    model = build_model(cfg)
    model.load_state_dict(ckpt["model"])
    return model, cfg, ckpt


def learning_rate(cfg: TrainConfig, step: int, elapsed_s: float) -> float:
    o = cfg.optim
    if step < o.warmup_steps:
        return o.lr * (step + 1) / o.warmup_steps
    progress = step / o.steps
    if o.max_minutes > 0:
        progress = max(progress, elapsed_s / (60 * o.max_minutes))
    return o.lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def heldout_batch(n: int, size: int, closeup_fraction: float) -> list:
    return [render_sample(heldout_seed(i), size=size, closeup_fraction=closeup_fraction) for i in range(n)]


@torch.no_grad()
def validate(model: torch.nn.Module, samples: list, device: torch.device) -> dict[str, float | None]:
    model.eval()
    scores, errors = ZoneScores(), []
    for s in samples:
        out = model(preprocess(torch.from_numpy(s.image)[None].to(device)))
        scores.add(out["zones"][0].argmax(0).cpu().numpy(), s.zones)
        errors.append(count_error(float(out["density"].sum()), float(len(s.hairs))))
    model.train()
    return {"val_miou": scores.mean_iou(), "val_count_median": summarise_counts(errors)["median_rel_error"]}


class Progress:
    """One status line on stderr: step, losses, speed and time left."""

    def __init__(self, total: int, start_step: int, max_minutes: float) -> None:
        self.total, self.start_step, self.t0, self.max_s = total, start_step, time.time(), max_minutes * 60

    def show(self, step: int, elapsed_s: float, values: dict[str, float]) -> None:
        rate = (step - self.start_step) / max(time.time() - self.t0, 1e-6)
        left = (self.total - step) / max(rate, 1e-9)
        if self.max_s > 0:
            left = min(left, max(self.max_s - elapsed_s, 0))
        shown = " ".join(f"{k} {v:.3f}" for k, v in values.items())
        sys.stderr.write(f"\rstep {step}/{self.total} {shown} | {rate:.2f} it/s, ETA {left / 60:.1f} min ")
        sys.stderr.flush()


def fit(cfg: TrainConfig, resume: bool = True) -> Path:
    """Train; returns the path of the final checkpoint. Resumes from out_dir/last.pt when it exists."""
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
    step, elapsed = 0, 0.0
    ckpt_path = out_dir / CHECKPOINT
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        step, elapsed = int(ckpt["step"]), float(ckpt["elapsed_s"])
        if rank == 0:
            print(f"resumed from {ckpt_path} at step {step}", file=sys.stderr)
    net = DistributedDataParallel(model) if world > 1 else model

    loader = DataLoader(
        ScalpStream(cfg.data, seed=cfg.seed + 1000 * step, rank=rank),  # a resumed run sees new scenes
        batch_size=cfg.optim.batch_size,
        num_workers=cfg.data.workers,
        persistent_workers=cfg.data.workers > 0,
        pin_memory=device.type == "cuda",
    )
    val = heldout_batch(cfg.val_samples, cfg.data.size, cfg.data.closeup_fraction) if rank == 0 else []
    log = _CsvLog(out_dir / "metrics.csv") if rank == 0 else None
    progress = Progress(cfg.optim.steps, step, cfg.optim.max_minutes)
    t_start = time.time() - elapsed
    net.train()
    for batch in loader:
        elapsed = _agreed_elapsed(time.time() - t_start, device)
        if step >= cfg.optim.steps or (cfg.optim.max_minutes > 0 and elapsed >= 60 * cfg.optim.max_minutes):
            break
        lr = learning_rate(cfg, step, elapsed)
        for group in opt.param_groups:
            group["lr"] = lr
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        out = net(preprocess(batch["image"]))
        losses = total_loss(out, batch, cfg.loss)
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if rank == 0:
            values = {k: float(v.detach()) for k, v in losses.items()}
            if step % cfg.log_every == 0 or step == 1:
                progress.show(step, elapsed, values)
                log.write({"step": step, "elapsed_s": round(elapsed, 1), "lr": lr, **values})
            if step % cfg.checkpoint_every == 0:
                log.write({"step": step, "elapsed_s": round(elapsed, 1), **validate(model, val, device)})
                _save(ckpt_path, model, opt, step, elapsed, cfg)
    if rank == 0:
        final = validate(model, val, device)
        log.write({"step": step, "elapsed_s": round(elapsed, 1), **final})
        _save(ckpt_path, model, opt, step, elapsed, cfg)
        print(f"\nfinished at step {step} after {elapsed / 60:.1f} min; held-out {final}", file=sys.stderr)
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return ckpt_path


def _agreed_elapsed(elapsed: float, device: torch.device) -> float:
    """All ranks must stop at the same step or DDP hangs: use rank 0's clock."""
    if not dist.is_initialized():
        return elapsed
    t = torch.tensor([elapsed], dtype=torch.float64, device=device)
    dist.broadcast(t, 0)
    return float(t.item())


def _save(path: Path, model, opt, step: int, elapsed: float, cfg: TrainConfig) -> None:
    world = dist.get_world_size() if dist.is_initialized() else 1
    tmp = path.with_suffix(".tmp")  # write then rename: an interrupted save never corrupts last.pt
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step,
            "elapsed_s": elapsed,
            "world_size": world,
            "config": to_dict(cfg),
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
