"""Short training probe for whole-head zones: trains a fresh network on the rendered stream for a few hundred
steps with a variant of the training recipe, and prints the training losses and the held-out whole-head IoU
per class at fixed steps. It answers "does this change make the network learn hair against bald faster?"
in minutes instead of an hour-long run.

    python benchmarks/zone_probe.py --steps 800 data.closeup_fraction=0 data.negative_fraction=0
    python benchmarks/zone_probe.py --steps 400 data.closeup_fraction=0 model.name=mobilenet_v3_large_fpn

The learning rate follows the recipe's warm-up and cosine decay (training.train.learning_rate) over
--steps; a short probe usually wants a shorter warm-up, e.g. optim.warmup_steps=100.

Positional arguments are overrides of configs/train_cpu.yaml (section.key=value). Held-out scenes are 48
whole-head photos from the held-out seed space at the training size; before each score the batch-norm
statistics are re-estimated on 8 training batches (a run this short has not settled its running averages,
and that would hide what the weights learnt). Needs the `train` extra (torch, albumentations).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # training.* without installing


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("overrides", nargs="*", help="config overrides, section.key=value")
    parser.add_argument("--config", default="configs/train_cpu.yaml", help="recipe to start from")
    parser.add_argument("--steps", type=int, default=800, help="training steps (cosine schedule over them)")
    parser.add_argument("--score-every", type=int, default=400, help="steps between held-out scores")
    parser.add_argument("--heldout", type=int, default=48, help="held-out whole-head photos scored")
    args = parser.parse_args()

    import torch

    from smpvision.synth import render_sample
    from training.config import load_config
    from training.data import ScalpStream
    from training.losses import total_loss
    from training.metrics import LOSS_CLASSES, ZoneScores
    from training.model import preprocess
    from training.seeds import heldout_seed
    from training.train import build_model, learning_rate

    cfg = load_config(args.config, args.overrides)
    # the recipe's warm-up and cosine schedule, fitted to this run's steps and never cut short by time
    cfg.optim.steps, cfg.optim.max_minutes = args.steps, 0
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    size = cfg.data.size
    held = [render_sample(heldout_seed(i), size=size, kind="overview") for i in range(args.heldout)]
    model = build_model(cfg)  # the trainer's factory: every model.* key of the recipe applies
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.optim.lr, weight_decay=cfg.optim.weight_decay)
    stream = torch.utils.data.DataLoader(
        ScalpStream(cfg.data, seed=cfg.seed), batch_size=cfg.optim.batch_size, num_workers=cfg.data.workers
    )
    batches = iter(stream)

    def score() -> dict[str, float]:
        probe = copy.deepcopy(model)
        for module in probe.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.reset_running_stats()
                module.momentum = None  # cumulative average over the re-estimation batches
        probe.train()
        with torch.no_grad():
            for _ in range(8):
                probe(preprocess(next(batches)["image"]))
            probe.eval()
            scores = ZoneScores()
            for s in held:
                # as served (a relative-density model splits hair/thinning/bald by D), like validate()
                probs = probe(preprocess(torch.from_numpy(s.image)[None]), probabilities=True)["zones"]
                scores.add(probs.argmax(1)[0].numpy(), s.zones)
        iou = {name: round(v["iou"] or 0.0, 3) for name, v in scores.per_class().items()}
        mean = sum(iou[c] for c in LOSS_CLASSES) / len(LOSS_CLASSES)
        iou["mIoU " + "/".join(LOSS_CLASSES)] = round(mean, 3)
        return iou

    start, sums = time.time(), {}
    for step in range(1, args.steps + 1):
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step - 1, 0.0)
        batch = next(batches)
        losses = total_loss(model(preprocess(batch["image"])), batch, cfg.loss)
        opt.zero_grad()
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        if step % 100 == 0 or step == args.steps:
            n = 100 if step % 100 == 0 else step % 100
            mean = {k: round(v / n, 3) for k, v in sums.items()}
            print(f"step {step:5d}  {time.time() - start:6.0f} s  {mean}", flush=True)
            sums = {}
        if step % args.score_every == 0 or step == args.steps:
            print(f"  held-out whole-head IoU at step {step}: {score()}", flush=True)


if __name__ == "__main__":
    main()
