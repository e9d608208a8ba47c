"""Metrics shared by validation and `smpvision evaluate` (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from training.metrics import ZoneScores, closeup_zone_targets, count_error, summarise_counts


def test_iou_and_dice_from_accumulated_confusion() -> None:
    truth = np.array([[0, 1, 1, 3], [3, 3, 255, 4]], np.uint8)
    pred = np.array([[0, 1, 3, 3], [3, 2, 1, 4]], np.uint8)
    scores = ZoneScores()
    scores.add(pred, truth)
    per = scores.per_class()
    assert per["bald"]["iou"] == pytest.approx(2 / 4)  # tp 2; fp 1 (hair→bald); fn 1 (bald→thinning)
    assert per["hair"]["iou"] == pytest.approx(1 / 2) and per["scar"]["iou"] == 1.0
    assert per["thinning"]["iou"] is None  # absent from the truth: no score, not zero
    assert scores.mean_iou() == pytest.approx((0.5 + 1.0) / 2)  # ignored pixel (255) counted nowhere


def test_count_error_has_a_floor_for_bald_photos() -> None:
    assert count_error(110, 100) == pytest.approx(0.1)
    assert count_error(3, 1) == pytest.approx(0.2)  # |3 - 1| / 10, not 200 %
    assert summarise_counts([0.1, 0.3, 0.2])["median_rel_error"] == pytest.approx(0.2)


def test_closeup_targets_merge_the_scalp_classes() -> None:
    zones = np.array([0, 1, 2, 3, 4], np.uint8)
    assert closeup_zone_targets(zones).tolist() == [0, 254, 254, 254, 4]


def test_any_scalp_is_right_for_any_scalp_class_without_crediting_one_and_wrong_for_a_scar() -> None:
    from training.metrics import ANY_SCALP

    truth = np.array([[ANY_SCALP] * 4 + [4]], np.uint8)
    pred = np.array([[1, 3, 4, 4, 4]], np.uint8)  # hair and bald are fine; two false scars
    scores = ZoneScores()
    scores.add(pred, truth)
    per = scores.per_class()
    assert per["scar"]["iou"] == 1 / 3
    # the two right pixels are left out: no bald pixel is scored, and hair only has the two misses
    assert per["bald"]["iou"] is None and per["hair"]["iou"] == 0.0 and per["hair"]["pixels"] == 2


def test_visible_targets_hide_unseen_zones_and_ignore_the_forehead_edge() -> None:
    from smpvision.synth.scene import HIDDEN_SCALP_EDGE, HIDDEN_VISIBLE, HIDDEN_ZONE
    from training.metrics import ANY_SCALP, visible_zone_targets

    zones = np.array([0, 1, 2, 3, 4, 3, 0, 1], np.uint8)
    V, Z, E = HIDDEN_VISIBLE, HIDDEN_ZONE, HIDDEN_SCALP_EDGE
    hidden = np.array([V, Z, Z, Z, Z, E, E, V], np.uint8)
    out = visible_zone_targets(zones, hidden)
    # a hidden scar or background stays what it is: only hair / thinning / bald lose their class
    assert out.tolist() == [0, ANY_SCALP, ANY_SCALP, ANY_SCALP, 4, 255, 255, 1]
    assert visible_zone_targets(zones, None) is zones
    # scored like a close-up field: some scalp zone predicted is left out, background predicted is missed hair
    scores = ZoneScores()
    scores.add(np.array([0, 3, 1, 0, 4, 3, 0, 1], np.uint8), out)
    assert scores.confusion.sum() == 4 and scores.confusion[1, 0] == 1  # pixels 0, 3, 4, 7
