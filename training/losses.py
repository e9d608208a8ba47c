"""Losses: cross-entropy + soft Dice on zones (255 ignored; 254 = any of hair/thinning/bald); density:
pixel loss on smoothed hair points plus a loss on the integrated count.

Hair density spans four orders of magnitude between a whole-head photo (~2 hairs/px) and a dermoscope
frame (~0.0005 hairs/px), so both density terms are relative to each image's own hair level; otherwise
whole-head photos would drown out the close-ups.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from smpvision.contracts import IGNORE_INDEX

from .config import LossConfig
from .metrics import ANY_SCALP


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 − mean soft Dice over the classes present in the batch (absent classes have no defined Dice)."""
    valid = (target != IGNORE_INDEX).unsqueeze(1).float()
    probs = logits.softmax(1) * valid
    onehot = F.one_hot(target.clamp_max(logits.shape[1] - 1), logits.shape[1]).permute(0, 3, 1, 2).float()
    onehot = onehot * valid
    inter = (probs * onehot).sum((0, 2, 3))
    denom = probs.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
    present = onehot.sum((0, 2, 3)) > 0
    dice = (2 * inter + 1.0) / (denom + 1.0)
    return 1 - dice[present].mean()


def smooth_counts(counts: torch.Tensor) -> torch.Tensor:
    """Hairs per stride-4 cell from a per-pixel map, averaged over an 8×8 window: the smoothing that turns
    exact hair points into a learnable target without fixing a kernel width in pixels."""
    return F.avg_pool2d(counts, 8, stride=4, padding=2, count_include_pad=False) * 16


def layout_kl_loss(pred: torch.Tensor, hairs: torch.Tensor, has_hairs: torch.Tensor) -> torch.Tensor:
    """KL divergence of the predicted hair distribution (smooth_counts cells, normalised) from the true
    one, averaged over images with at least one hair: 0 = the same layout.

    The layout term of density_losses (total variation) cannot teach a sparse close-up where its hairs
    are. There every cell sits in softplus's exponential regime (a dermoscope field is ~0.0005 hairs/px),
    so a cell's gradient is proportional to the mass it already holds: an exit cell the model gives
    nothing gets no push up, and the term stayed at 0.95–0.98 through every close-up-heavy run. The KL
    is a cross-entropy over cells: each true cell pulls its own log-mass up by its share of the hairs,
    however little it holds, as a softmax cross-entropy does for a class given no probability."""
    keep = (has_hairs > 0) & (hairs.sum((1, 2)) >= 1)
    if keep.sum() == 0:
        return pred.sum() * 0
    cp, ct = smooth_counts(pred[keep]), smooth_counts(hairs[keep].unsqueeze(1))
    # in log space: normalised cell masses of a close-up reach 1e-10 and below
    log_dp = cp.clamp_min(1e-30).log() - cp.sum((1, 2, 3), keepdim=True).clamp_min(1e-30).log()
    dt = ct / ct.sum((1, 2, 3), keepdim=True)
    log_dt = dt.clamp_min(1e-30).log()
    return (dt * (log_dt - log_dp)).sum((1, 2, 3)).mean()


def density_losses(
    pred: torch.Tensor, hairs: torch.Tensor, has_hairs: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """pred: [N,1,H,W] hairs/px; hairs: [N,H,W] point counts; has_hairs: [N] 1 where the count is known.

    Scale and layout are learnt separately, each scale-free: the count term is the log-ratio of the
    integrated count, the pixel term the total-variation distance between the predicted and true
    (smoothed) hair distributions over the image. A loss on raw or level-normalised counts per pixel
    let the sparse close-ups' gradients outweigh the dense whole-head photos' by ~1000× and the model
    learnt to predict almost no hair anywhere."""
    keep = has_hairs > 0
    if keep.sum() == 0:
        zero = pred.sum() * 0
        return zero, zero
    p, t = pred[keep], hairs[keep].unsqueeze(1)
    n_pred, n_true = p.sum((1, 2, 3)), t.sum((1, 2, 3))
    # log-ratio: symmetric in over/under-counting and bounded for a 3-hair close-up predicted as 300
    count = (torch.log1p(n_pred) - torch.log1p(n_true)).abs().mean()
    with_hair = n_true >= 1
    if with_hair.sum() == 0:
        return count * 0, count
    cp, ct = smooth_counts(p[with_hair]), smooth_counts(t[with_hair])
    dp = cp / cp.sum((1, 2, 3), keepdim=True).clamp_min(1e-6)
    dt = ct / ct.sum((1, 2, 3), keepdim=True)
    pixel = (dp - dt).abs().sum((1, 2, 3)).mean() / 2  # 0 = same layout, 1 = disjoint
    return pixel, count


def total_loss(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], cfg: LossConfig) -> dict:
    zones = batch["zones"]
    weight = None
    if cfg.class_weights:
        n = out["zones"].shape[1]
        if len(cfg.class_weights) != n:
            raise ValueError(f"loss.class_weights has {len(cfg.class_weights)} values for {n} zone classes")
        weight = torch.tensor(cfg.class_weights, dtype=out["zones"].dtype, device=zones.device)
    any_scalp = zones == ANY_SCALP
    exact = zones.masked_fill(any_scalp, IGNORE_INDEX)
    ce = F.cross_entropy(out["zones"], exact, weight=weight, ignore_index=IGNORE_INDEX)
    if any_scalp.any():  # −log(p_hair + p_thinning + p_bald), weighted by its share of labelled pixels
        logp = out["zones"].log_softmax(1)
        nll_any = -torch.logsumexp(logp[:, 1:4], 1)[any_scalp].mean()
        n_exact = (exact != IGNORE_INDEX).sum()
        n_any = any_scalp.sum()
        ce = torch.nan_to_num(ce) * n_exact / (n_exact + n_any) + nll_any * n_any / (n_exact + n_any)
    dice = dice_loss(out["zones"], exact)
    loss = ce + cfg.dice_weight * dice
    parts = {"ce": ce, "dice": dice}
    if "density" not in out:  # a zones-only forward pass (model.forward(density=False))
        return {"loss": loss, **parts}
    pixel, count = density_losses(out["density"], batch["hairs"], batch["has_hairs"])
    loss = loss + cfg.density_weight * pixel + cfg.count_weight * count
    parts.update(density=pixel, count=count)
    if cfg.layout_kl_weight > 0:
        parts["layout_kl"] = layout_kl_loss(out["density"], batch["hairs"], batch["has_hairs"])
        loss = loss + cfg.layout_kl_weight * parts["layout_kl"]
    if "relative" in out:
        parts["relative"] = relative_loss(out["relative"], batch, exact)
        loss = loss + cfg.relative_weight * parts["relative"]
    return {"loss": loss, **parts}


def relative_loss(pred: torch.Tensor, batch: dict[str, torch.Tensor], exact: torch.Tensor) -> torch.Tensor:
    """Mean |D̂ − D| over pixels labelled exactly hair, thinning or bald in scenes that carry D (close-ups
    under the "ignore" policy are ANY_SCALP, hence left out like their zones)."""
    keep = (exact >= 1) & (exact <= 3) & (batch["has_relative"] > 0).view(-1, 1, 1)
    if not keep.any():
        return pred.sum() * 0
    return (pred[:, 0][keep] - batch["relative"][keep]).abs().mean()
