"""Seed spaces of the renderer (torch-free, so evaluation can import them without the train extra).

Training renders `(TRAIN_TAG, seed, rank, worker, i)`; held-out evaluation renders `(HELDOUT_TAG, i)`;
int8 calibration renders `(CALIBRATION_TAG, i)`. Different leading tags give disjoint seed streams, so
held-out scenes are never seen in training.
"""

from __future__ import annotations

TRAIN_TAG = 7101
HELDOUT_TAG = 9202
CALIBRATION_TAG = 5303


def heldout_seed(index: int) -> tuple[int, int]:
    return (HELDOUT_TAG, index)
