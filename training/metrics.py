"""Segmentation and counting metrics, accumulated over a data set (numpy only, shared by the training
loop's validation and `smpvision evaluate`)."""

from __future__ import annotations

import numpy as np

from smpvision.contracts import IGNORE_INDEX, ZONE_CLASSES
from smpvision.synth.scene import HIDDEN_SCALP_EDGE, HIDDEN_ZONE

LOSS_CLASSES = ("thinning", "bald", "scar")  # the classes the acceptance bar averages
# Close-up target "scalp, one of hair / thinning / bald": the loss asks for their summed probability.
ANY_SCALP = 254
_SCALP_IDS = (1, 2, 3)


def closeup_zone_targets(zones: np.ndarray) -> np.ndarray:
    """Close-up zone targets with hair / thinning / bald merged into ANY_SCALP. In a 3–25 mm field those
    classes are thresholds on density relative to the client's full density, which the field alone does
    not show (the same 12 hairs are "hair" on one client and "thinning" on another); the density head
    learns the hair count there instead, and the runtime judges close-up zones from measured hairs/cm².
    The pixels still say "scalp, not scar, not background": left as plain ignore, the model learnt to
    call whole close-up fields scar."""
    return np.where((zones == 0) | (zones == 4), zones, ANY_SCALP).astype(np.uint8)


def visible_zone_targets(zones: np.ndarray, hidden: np.ndarray | None) -> np.ndarray:
    """Rendered whole-head zones as far as the pixels show them (Sample.hidden): scalp whose hair /
    thinning / bald zone cannot be seen becomes ANY_SCALP (scored and learnt like a close-up field), and
    the band where bald scalp runs into the forehead without an edge is ignored: no model can tell
    from the photo what is under them."""
    if hidden is None:
        return zones
    out = np.where((hidden == HIDDEN_ZONE) & np.isin(zones, _SCALP_IDS), ANY_SCALP, zones)
    return np.where(hidden == HIDDEN_SCALP_EDGE, IGNORE_INDEX, out).astype(np.uint8)


def resolve_any_scalp(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Truth for scoring: an ANY_SCALP pixel where any of hair/thinning/bald is predicted is right but says
    nothing about which of the three, so it is left out (ignored); one where scar or background is
    predicted counts as missed hair (so false scars on close-ups cost scar IoU). Until 2026-11-21 the
    first kind counted as a hit for whichever class was predicted, which credited close-up fields called
    bald to the bald IoU: model v2.1's mean IoU over all held-out scenes read 0.255 that way, 0.107
    without the credit (whole-head photos, which have no ANY_SCALP pixels, 0.080 either way)."""
    any_scalp = truth == ANY_SCALP
    if not any_scalp.any():
        return truth
    resolved = np.where(np.isin(pred, _SCALP_IDS), IGNORE_INDEX, 1).astype(truth.dtype)
    return np.where(any_scalp, resolved, truth)


class ZoneScores:
    """Confusion matrix over all pixels seen; IoU and Dice per class from the totals (not a mean of
    per-image scores, which small zones would make noisy)."""

    def __init__(self) -> None:
        n = len(ZONE_CLASSES)
        self.confusion = np.zeros((n, n), np.int64)

    def add(self, pred: np.ndarray, truth: np.ndarray) -> None:
        truth = resolve_any_scalp(truth, pred)
        keep = truth != IGNORE_INDEX
        n = len(ZONE_CLASSES)
        idx = truth[keep].astype(np.int64) * n + pred[keep].astype(np.int64)
        self.confusion += np.bincount(idx, minlength=n * n).reshape(n, n)

    def per_class(self) -> dict[str, dict[str, float | None]]:
        tp = np.diag(self.confusion).astype(np.float64)
        fp = self.confusion.sum(0) - tp
        fn = self.confusion.sum(1) - tp
        out = {}
        for i, name in enumerate(ZONE_CLASSES):
            union = tp[i] + fp[i] + fn[i]
            present = tp[i] + fn[i] > 0
            out[name] = {
                "iou": float(tp[i] / union) if present else None,
                "dice": float(2 * tp[i] / (2 * tp[i] + fp[i] + fn[i])) if present else None,
                "pixels": int(tp[i] + fn[i]),
            }
        return out

    def mean_iou(self, classes: tuple[str, ...] = LOSS_CLASSES) -> float | None:
        scores = [self.per_class()[c]["iou"] for c in classes]
        scores = [s for s in scores if s is not None]
        return float(np.mean(scores)) if scores else None


def count_error(pred: float, truth: float, floor: float = 10.0) -> float:
    """Relative hair-count error. The denominator is at least `floor` hairs so that a photo of a fully
    bald scalp (truth 0–2 hairs) does not turn a miss of one hair into a 50–100 % error."""
    return abs(pred - truth) / max(truth, floor)


def summarise_counts(errors: list[float]) -> dict[str, float | int | None]:
    if not errors:
        return {"n": 0, "median_rel_error": None, "mean_rel_error": None, "p90_rel_error": None}
    e = np.asarray(errors)
    return {
        "n": len(e),
        "median_rel_error": float(np.median(e)),
        "mean_rel_error": float(e.mean()),
        "p90_rel_error": float(np.percentile(e, 90)),
    }
