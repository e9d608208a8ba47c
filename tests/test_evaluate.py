"""How `smpvision evaluate` hands rendered scenes to the runtime: as they are, or through the close-up
rescaling with the labelled or the estimated scale (the bundled model; no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from smpvision.segmenter import Segmenter
from training import evaluate as ev
from training.metrics import ANY_SCALP
from training.seeds import heldout_seed

CLOSEUP_SEED, OVERVIEW_SEED = 6, 0  # held-out indices: a trichoscope close-up and a front view


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    with Segmenter.from_path() as s:
        yield s


def _sample(index: int, size: int = 64) -> ev.Sample:
    return next(ev.rendered_scenes([heldout_seed(index)], size))


def test_closeups_are_set_aside_and_every_sample_passes_through() -> None:
    kept: list[ev.Sample] = []
    names = [s[0] for s in ev.set_aside_closeups(ev.rendered_heldout(8, 32), kept)]
    assert len(names) == 8
    assert [s[0] for s in kept] == ["heldout_00006"]
    assert all(s[4]["view"]["kind"] == "closeup" for s in kept)


def test_scale_modes_reach_the_runtime_as_a_users_photo_would(seg: Segmenter) -> None:
    _, image, _, _, label = _sample(CLOSEUP_SEED, size=256)
    assert label["view"]["kind"] == "closeup"
    as_is = ev.segment_with_label(seg, "as_is")(image, label)
    assert as_is.model_scale == 1.0 and as_is.scale_source == "none"
    given = ev.segment_with_label(seg, "label")(image, label)
    assert given.scale_source == "given" and given.mm_per_px == label["mm_per_px"]
    # a trichoscope field finer than the typical trained scale is brought down to it
    assert given.model_scale == pytest.approx(label["mm_per_px"] / seg.closeup_scale["typical"], rel=1e-6)
    assert given.model_scale < 1.0
    estimated = ev.segment_with_label(seg, "estimated")(image, label)
    assert estimated.scale_source in ("estimated", "none")
    assert estimated.zones.shape == given.zones.shape == image.shape[:2]


@pytest.mark.parametrize("scale", ev.SCALE_MODES)
def test_whole_head_photos_get_no_scale_in_any_mode(seg: Segmenter, scale: str) -> None:
    _, image, _, _, label = _sample(OVERVIEW_SEED)
    assert label["view"]["kind"] == "overview"
    result = ev.segment_with_label(seg, scale)(image, label)
    assert result.scale_source == "none" and result.mm_per_px is None


def test_closeups_are_scored_on_what_the_policy_trained() -> None:
    _, _, zones, _, label = _sample(CLOSEUP_SEED)
    assert (ev.scoring_targets(zones, label, "train") == zones).all()
    merged = ev.scoring_targets(zones, label, "ignore")
    assert set(np.unique(merged)) <= {0, 4, ANY_SCALP} and (merged == ANY_SCALP).any()
    _, _, head, _, head_label = _sample(OVERVIEW_SEED)
    assert (ev.scoring_targets(head, head_label, "ignore") == head).all()


def test_unknown_scale_mode_is_refused(seg: Segmenter) -> None:
    with pytest.raises(ValueError, match="scale must be one of"):
        ev.segment_with_label(seg, "exact")


def test_rendered_heldout_scores_what_the_pixels_show_unless_asked_for_the_drawn_zones() -> None:
    """visible=True (the default) turns hidden whole-head zones into ANY_SCALP and the forehead band into
    ignore; visible=False hands over the drawn zones, 0..4 only. Same scenes, same pixels."""
    visible = list(ev.rendered_heldout(12, 128, closeup_fraction=0.0))
    drawn = list(ev.rendered_heldout(12, 128, closeup_fraction=0.0, visible=False))
    changed = 0
    for (_, img_v, zones_v, *_), (_, img_d, zones_d, *_) in zip(visible, drawn, strict=True):
        np.testing.assert_array_equal(img_v, img_d)
        assert int(zones_d.max()) <= 4
        differ = zones_v != zones_d
        assert np.isin(zones_v[differ], (ANY_SCALP, 255)).all()
        changed += int(differ.sum())
    assert changed > 0, "no hidden pixel in 12 whole-head scenes: the visible scoring was not applied"
