"""Real-photo loaders and metrics on tiny fake folders shaped like the two evaluation sets, and the weak
severity losses that train on the hair-loss set's training persons (those need the train extra)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from training.realdata import (
    CALLED_SCAR_SHARE,
    HAIRLOSS_ATTRIBUTION,
    LevelPhoto,
    evaluate_counts,
    evaluate_severity,
    evenly_spaced,
    format_table,
    is_training_person,
    load_hairloss_levels,
    load_trichoscopy,
    parse_subject_view,
    person_key,
    spearman,
)

HEADER = "filename, LEVEL_2, LEVEL_3, LEVEL_4, LEVEL_5, LEVEL_6, LEVEL_7"


def _jpeg(path: Path, grey: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((24, 32, 3), grey, np.uint8)).save(path, quality=95)


def _one_hot(level: int) -> str:
    return ",".join("1" if lvl == level else "0" for lvl in range(2, 8))


def _levels_folder(root: Path, rows: dict[str, list[tuple[str, int]]]) -> Path:
    """rows: split → [(file name, level)]; the image's grey value encodes its level (for the fake model)."""
    for split, items in rows.items():
        for name, level in items:
            _jpeg(root / split / name, 30 * level)
        lines = [HEADER] + [f"{name},{_one_hot(level)}" for name, level in items]
        (root / split / "_classes.csv").write_text("\n".join(lines))
    return root


@pytest.fixture
def levels_root(tmp_path: Path) -> Path:
    return _levels_folder(tmp_path / "hairloss", {
        "train": [("1-Front_jpg.rf.aaa.jpg", 2), ("2-Top-Down_jpg.rf.bbb.jpg", 5),
                  ("31Front_jpg.rf.ccc.jpg", 7)],
        "valid": [("4-Back_jpg.rf.ddd.jpg", 3)],
    })  # fmt: skip


def test_load_hairloss_levels(levels_root: Path) -> None:
    photos = load_hairloss_levels(levels_root)
    got = {(p.split, p.subject, p.view, p.level) for p in photos}
    assert got == {("train", "1", "Front", 2), ("train", "2", "Top-Down", 5), ("train", "31", "Front", 7),
                   ("valid", "4", "Back", 3)}  # fmt: skip
    assert all(p.path.is_file() for p in photos)
    assert load_hairloss_levels(levels_root / "valid")[0].split == "valid"  # a split folder on its own


@pytest.mark.parametrize(
    ("name", "subject", "view"),
    [("6-Top-Down_jpg.rf.x.jpg", "6", "Top-Down"), ("32Top-Down_jpg.rf.y.jpg", "32", "Top-Down"),
     ("12-Left_jpg.rf.z.jpg", "12", "Left"), ("7-right.jpg", "7", "Right")],
)  # fmt: skip
def test_parse_subject_view(name: str, subject: str, view: str) -> None:
    assert parse_subject_view(name) == (subject, view)


def test_levels_errors_name_the_path(tmp_path: Path, levels_root: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_hairloss_levels(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="_classes.csv"):
        load_hairloss_levels(tmp_path / "empty")
    bad = levels_root / "train" / "_classes.csv"
    bad.write_text(HEADER + "\n1-Front_jpg.rf.aaa.jpg,0,1,0,0,1,0\n")
    with pytest.raises(ValueError, match=r"_classes\.csv line 2.*exactly one"):
        load_hairloss_levels(levels_root)
    bad.write_text(HEADER + "\nmissing-Front.jpg,1,0,0,0,0,0\n")
    with pytest.raises(FileNotFoundError, match="missing-Front.jpg"):
        load_hairloss_levels(levels_root)


def _voc(path: Path, boxes: list[tuple[int, int, int, int]], tag: str = "class") -> None:
    objs = "".join(
        f"<object><{tag}>premium</{tag}><bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax>"
        f"<ymax>{d}</ymax></bndbox></object>"
        for a, b, c, d in boxes
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><filename>{path.stem}.jpg</filename>{objs}</annotation>")


@pytest.fixture
def counts_root(tmp_path: Path) -> Path:
    root = tmp_path / "tricho"
    _jpeg(root / "images" / "a.jpg", 100)
    _voc(root / "annotations" / "a.xml", [(10, 5, 20, 15), (30, 40, 25, 35)])  # second box reversed
    _jpeg(root / "images" / "b.jpg", 100)
    _voc(root / "annotations" / "b.xml", [(1, 1, 4, 4)] * 4, tag="name")
    _jpeg(root / "images" / "c.jpg", 100)
    _voc(root / "annotations" / "c.xml", [(0, 0, 2, 2)])
    return root


def test_load_trichoscopy(counts_root: Path) -> None:
    photos = {p.path.stem: p for p in load_trichoscopy(counts_root)}
    assert {k: p.hair_count for k, p in photos.items()} == {"a": 2, "b": 4, "c": 1}
    assert photos["a"].boxes == ((10, 5, 20, 15), (25, 35, 30, 40))
    assert photos["b"].classes == ("premium",) * 4
    # list.txt (CRLF, as shipped) picks a subset; an entry with neither image nor annotation is skipped
    (counts_root / "list.txt").write_text("c\r\na\r\ngone\r\n")
    with pytest.warns(UserWarning, match="gone"):
        assert [p.path.stem for p in load_trichoscopy(counts_root)] == ["c", "a"]


def test_trichoscopy_errors_name_the_path(tmp_path: Path, counts_root: Path) -> None:
    with pytest.raises(FileNotFoundError, match="images"):
        load_trichoscopy(tmp_path)
    (counts_root / "images" / "c.jpg").unlink()
    with pytest.raises(FileNotFoundError, match="c.jpg"):
        load_trichoscopy(counts_root)
    (counts_root / "annotations" / "c.xml").write_text("<annotation><object>")
    _jpeg(counts_root / "images" / "c.jpg", 100)
    with pytest.raises(ValueError, match="c.xml"):
        load_trichoscopy(counts_root)


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 1000]) == pytest.approx(1.0)  # monotonic, not linear
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties get average ranks: ranks x = 1.5 1.5 3 4, y = 1 2 3 4 → Pearson of the ranks
    assert spearman([5, 5, 6, 7], [1, 2, 3, 4]) == pytest.approx(0.9486833, abs=1e-6)
    assert math.isnan(spearman([1, 2], [1, 2]))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_evenly_spaced() -> None:
    assert evenly_spaced(list(range(10)), 3) == [0, 4, 9]  # first, middle (rounded half to even), last
    assert evenly_spaced([1, 2], 5) == [1, 2]


def _zones_from_grey(image: np.ndarray, view_kind: str) -> SimpleNamespace:
    """Fake model: loss share grows with the image's grey value (= 30 × level), no scalp when black."""
    assert view_kind == "overview"
    share = float(image.mean()) / 255
    zones = np.ones(image.shape[:2], np.uint8)
    n_loss = round(share * zones.size)
    zones.ravel()[:n_loss] = 3
    if image.mean() < 10:
        zones[:] = 0
    return SimpleNamespace(zones=zones)


def test_evaluate_severity(tmp_path: Path) -> None:
    root = _levels_folder(tmp_path / "h", {"train": [
        ("1-Front_jpg.rf.a.jpg", 2), ("2-Front_jpg.rf.b.jpg", 4), ("3-Front_jpg.rf.c.jpg", 6),
        ("4-Left_jpg.rf.d.jpg", 3), ("5-Left_jpg.rf.e.jpg", 5), ("6-Left_jpg.rf.f.jpg", 7)]})  # fmt: skip
    photos = load_hairloss_levels(root)
    _jpeg(photos[0].path, 0)  # subject 1 shows no scalp at all
    calls = []
    res = evaluate_severity(photos, _zones_from_grey, progress=lambda i, n: calls.append((i, n)))
    assert calls[-1] == (6, 6)
    assert res["views"]["Left"]["rho"] == pytest.approx(1.0)
    assert res["views"]["Left"]["n_no_scalp"] == 0
    front = res["views"]["Front"]
    assert (front["n"], front["n_no_scalp"], front["n_subjects"]) == (3, 1, 3)
    assert math.isnan(front["rho"])  # two usable photos: too few for a correlation
    assert res["all"]["rho"] == pytest.approx(1.0) and res["all"]["n_no_scalp"] == 1
    assert sorted(res["all"]["mean_loss_share_by_level"]) == [3, 4, 5, 6, 7]
    assert res["all"]["mean_loss_share_by_level"][7] > res["all"]["mean_loss_share_by_level"][3]
    assert res["attribution"] == HAIRLOSS_ATTRIBUTION
    quick = evaluate_severity(photos, _zones_from_grey, limit_per_view=1)
    assert quick["all"]["n"] == 2 and set(quick["views"]) == {"Front", "Left"}


def test_severity_counts_the_hair_loss_photos_called_scar(tmp_path: Path) -> None:
    """A photo with more than CALLED_SCAR_SHARE of its scalp called scar is counted, in every view and
    among the held-out persons, and the table says how many."""
    root = _levels_folder(tmp_path / "h", {"train": [
        ("1-Front_jpg.rf.a.jpg", 2), ("2-Front_jpg.rf.b.jpg", 6), ("3-Left_jpg.rf.c.jpg", 4),
        ("4-Left_jpg.rf.d.jpg", 7)]})  # fmt: skip

    def scar_on_bald_heads(image: np.ndarray, view_kind: str) -> SimpleNamespace:
        zones = _zones_from_grey(image, view_kind).zones
        if image.mean() > 170:  # levels 6 and 7: a third of the scalp called scar
            zones.ravel()[: zones.size // 3] = 4
        return SimpleNamespace(zones=zones)

    res = evaluate_severity(load_hairloss_levels(root), scar_on_bald_heads)
    assert res["all"]["n_called_scar"] == 2
    assert res["views"]["Front"]["n_called_scar"] == res["views"]["Left"]["n_called_scar"] == 1
    assert [r["scar_share"] > CALLED_SCAR_SHARE for r in res["photos"]].count(True) == 2
    held = sum(v["n_called_scar"] for v in res["heldout_views"].values())
    assert held == sum(
        r["scar_share"] > CALLED_SCAR_SHARE and not r["training_person"] for r in res["photos"]
    )
    assert "more than 20% of the scalp called scar: 2 of 4" in format_table(res)
    assert evaluate_severity(load_hairloss_levels(root), _zones_from_grey)["all"]["n_called_scar"] == 0


def test_evaluate_counts(counts_root: Path) -> None:
    seen = []

    def segment(image: np.ndarray, view_kind: str, mm_per_px: float | None = None) -> SimpleNamespace:
        assert view_kind == "closeup"
        seen.append(mm_per_px)
        h, w = image.shape[:2]
        density = np.full((h, w), 2.0 / (h * w), np.float32)  # always predicts 2 hairs
        return SimpleNamespace(density=density, mm_per_px=mm_per_px or 0.01, scale_source="estimated")

    photos = load_trichoscopy(counts_root)  # true counts 2, 4, 1
    res = evaluate_counts(photos, segment)
    assert seen == [None] * 3
    assert res["n"] == 3
    assert res["mae"] == pytest.approx((0 + 2 + 1) / 3, rel=1e-5)
    assert res["mean_rel_error"] == pytest.approx((0 + 0.5 + 1) / 3, rel=1e-5)
    assert res["median_rel_error"] == pytest.approx(0.5, rel=1e-5)
    assert (res["mean_true"], res["mean_pred"]) == (pytest.approx(7 / 3), pytest.approx(2.0, rel=1e-5))
    # the constant answer 7/3 for counts 2, 4, 1: relative errors 1/6, 5/12, 4/3
    assert res["constant_mean_rel_error"] == pytest.approx((1 / 6 + 5 / 12 + 4 / 3) / 3)
    assert math.isnan(res["pearson_r"])  # a constant prediction has no correlation
    assert [r["name"] for r in res["images"]] == ["a.jpg", "b.jpg", "c.jpg"]
    assert res["images"][0]["mm_per_px"] == 0.01
    evaluate_counts(photos[:1], segment, mm_per_px=0.003)
    assert seen[-1] == 0.003
    # an even map puts in the boxes what they cover of the frame
    for row in res["images"]:
        assert row["share_in_boxes"] == pytest.approx(row["box_area_share"], rel=1e-5)
    assert res["median_share_in_boxes"] == pytest.approx(res["median_box_area_share"], rel=1e-5)


def test_share_in_boxes_at_the_maps_own_size() -> None:
    from training.realdata import share_in_boxes

    boxes = [(20, 10, 40, 30)]  # 20 × 20 px, padded by 3 px each side: rows 7–33, columns 17–43
    density = np.zeros((100, 200))
    density[20, 30] = 1.0  # one hair inside
    density[20, 44] = 0.5  # just past the padding
    assert share_in_boxes(density, boxes, (100, 200)) == (pytest.approx(2 / 3), pytest.approx(26 * 26 / 2e4))
    half = np.zeros((50, 100))  # the same map at half the photo's size: the box is scaled to it
    half[10, 15], half[10, 23] = 1.0, 0.5
    share, area = share_in_boxes(half, boxes, (100, 200))
    assert share == pytest.approx(2 / 3) and area == pytest.approx(14 * 14 / 5e3)  # rounded outwards
    assert share_in_boxes(np.zeros((10, 10)), boxes, (100, 200))[0] is None  # nothing counted


def test_format_table(tmp_path: Path, counts_root: Path) -> None:
    root = _levels_folder(
        tmp_path / "h", {"train": [(f"{i}-Right_jpg.rf.{i}.jpg", i + 1) for i in (1, 2, 3)]}
    )
    sev = evaluate_severity(load_hairloss_levels(root), _zones_from_grey)

    def segment(image: np.ndarray, view_kind: str) -> SimpleNamespace:
        return SimpleNamespace(density=np.zeros(image.shape[:2]), mm_per_px=None, scale_source="none")

    cnt = evaluate_counts(load_trichoscopy(counts_root), segment)
    text = format_table({"severity": sev, "counts": cnt})
    assert "Right" in text and "all" in text and "1.000" in text
    assert HAIRLOSS_ATTRIBUTION in text
    assert "Hair counts" in text and "2.33" in text  # mean true count
    assert "yardstick" in text
    assert format_table(sev).startswith("Severity") and format_table(cnt).startswith("Hair counts")


def _photo(subject: str, level: int, view: str = "Top-Down", split: str = "train") -> LevelPhoto:
    return LevelPhoto(Path(f"{subject}-{view}_jpg.rf.x.jpg"), split, subject, view, level)


def test_person_split_is_fixed_shares_persons_and_keeps_a_person_on_one_side() -> None:
    photos = [_photo(str(s), lvl) for s in range(1, 41) for lvl in range(2, 8)]
    chosen = [is_training_person(p) for p in photos]
    assert 0.45 < np.mean(chosen) < 0.75  # LEVELS_TRAIN_SHARE is 0.6
    # subject numbers restart per level: the same number at two levels is two persons
    assert person_key(_photo("1", 2)) != person_key(_photo("1", 3))
    for p in photos[:12]:  # all views and both splits of one person fall on the same side
        same = [
            _photo(p.subject, p.level, v, split) for v in ("Front", "Back") for split in ("train", "valid")
        ]
        assert {is_training_person(q) for q in same} == {is_training_person(p)}


def test_severity_per_subject_groups_persons_not_subject_numbers(tmp_path: Path) -> None:
    # subject 1 at levels 2 and 7 are two heads; grouped by number they would be one point of level 4.5
    root = _levels_folder(tmp_path / "h", {"train": [
        ("1-Front_jpg.rf.a.jpg", 2), ("1-Front_jpg.rf.b.jpg", 7), ("2-Front_jpg.rf.c.jpg", 4)]})  # fmt: skip
    res = evaluate_severity(load_hairloss_levels(root), _zones_from_grey)
    front = res["views"]["Front"]
    assert front["n_subjects"] == 3
    assert front["rho_subjects"] == pytest.approx(1.0)
    rows = res["photos"]
    assert all(r["training_person"] == is_training_person(_photo(r["subject"], r["level"])) for r in rows)
    held = [r for r in rows if not r["training_person"]]
    assert res["heldout_views"].get("Front", {"n": 0})["n"] == len(held)


def test_weak_losses_rank_levels_and_penalise_scar() -> None:
    torch = pytest.importorskip("torch", reason="needs the train extra")
    from training.weak import weak_level_losses

    def logits(bald: float, scar: float) -> torch.Tensor:
        probs = torch.tensor([0.0, 1 - bald - scar, 0.0, bald, scar]).clamp_min(1e-4)
        return probs.log().view(1, 5, 1, 1).expand(1, 5, 4, 4).clone()

    levels = torch.tensor([6, 2])  # (higher, lower)
    right = weak_level_losses(torch.cat([logits(0.6, 0.0), logits(0.1, 0.0)]), levels, 0.05, 0.02)
    wrong = weak_level_losses(torch.cat([logits(0.1, 0.0), logits(0.6, 0.0)]), levels, 0.05, 0.02)
    assert float(right["severity_rank"]) == pytest.approx(0.0, abs=1e-3)
    assert float(wrong["severity_rank"]) == pytest.approx(0.2 + 0.5, abs=1e-2)  # margin 4 × 0.05 + 0.5
    scarred = weak_level_losses(torch.cat([logits(0.1, 0.5), logits(0.1, 0.0)]), levels, 0.05, 0.02)
    assert float(scarred["real_scar"]) == pytest.approx((0.5 - 0.02) / 2, abs=1e-2)
    assert float(right["real_scar"]) == pytest.approx(0.0, abs=1e-3)
    x = torch.cat([logits(0.1, 0.5), logits(0.6, 0.0)]).requires_grad_(True)
    parts = weak_level_losses(x, levels, 0.05, 0.02)
    (parts["severity_rank"] + parts["real_scar"]).backward()
    assert x.grad[0, 3].sum() < 0 and x.grad[0, 4].sum() > 0  # more bald, less scar on the level-6 photo


def test_level_pairs_sample_same_view_higher_level_first(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="needs the train extra")
    pytest.importorskip("albumentations")
    from training.weak import LevelPairs

    rows = [(f"{s}-{v}_jpg.rf.{s}{v}{lvl}.jpg", lvl) for s in range(1, 9) for v in ("Front", "Back")
            for lvl in (2, 5)]  # fmt: skip
    root = _levels_folder(tmp_path / "h", {"train": rows})
    pairs = LevelPairs(root, size=32, seed=3)
    assert 0 < len(pairs) < len(rows)  # training persons only
    batch = pairs.sample(4)
    assert batch["images"].shape == (8, 32, 32, 3) and batch["images"].dtype == torch_uint8()
    levels = batch["levels"].tolist()
    assert all(levels[i] > levels[i + 1] for i in range(0, 8, 2))


def torch_uint8() -> object:
    import torch

    return torch.uint8
