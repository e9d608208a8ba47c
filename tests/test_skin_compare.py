"""benchmarks/skin_compare.py: the per-model summary and the paired bootstrap of the difference of medians."""

from __future__ import annotations

import pytest

from benchmarks.skin_compare import paired_median_difference, summary


def test_summary_counts_only_photos_with_a_reading() -> None:
    r = summary([(-4.0, True), None, (10.0, False), (2.0, True)])
    assert r["n"] == 4 and r["coverage"] == 0.75
    assert r["ita_abs_err_median"] == 4.0 and r["ita_bias_median"] == 2.0
    assert r["fitzpatrick_within_1"] == pytest.approx(0.667, abs=1e-3)
    assert summary([None, None])["ita_abs_err_median"] is None


def test_paired_difference_finds_a_shift_and_not_noise() -> None:
    base = [(float(e), True) for e in range(1, 101)]  # |errors| 1..100, median 50.5
    worse = [(e + 5.0, ok) for e, ok in base]  # every photo 5° worse
    d = paired_median_difference(base, worse, resamples=500)
    assert d["difference"] == 5.0
    lo, hi = d["interval_95"]
    assert lo == pytest.approx(5.0) and hi == pytest.approx(5.0)  # paired: the same photos shift together
    same = paired_median_difference(base, base, resamples=200)
    assert same["difference"] == 0.0 and same["interval_95"] == [0.0, 0.0]
    # a reading one model lacks leaves that photo out of its median only
    gappy = [None if i % 10 == 0 else r for i, r in enumerate(worse)]
    g = paired_median_difference(base, gappy, resamples=200)
    assert 4.0 <= g["difference"] <= 7.0  # still about the 5° shift, not a comparison of different photos
    assert g["interval_95"][0] <= g["difference"] <= g["interval_95"][1]


def test_paired_difference_refuses_different_photo_sets() -> None:
    with pytest.raises(ValueError, match="same"):
        paired_median_difference([(1.0, True)], [(1.0, True), None])
    assert paired_median_difference([None], [(1.0, True)])["difference"] is None
