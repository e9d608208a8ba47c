"""The SMP recommender: pigment/dilution ordering, dots per cm², sessions, scars, flags and the YAML rules."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest
import yaml

from smpvision.contracts import SCAR_TYPES
from smpvision.recommend import (
    CONFIG_DIR,
    FLAG_CODES,
    Findings,
    Preferences,
    RecommendFile,
    load_rules,
    recommend,
)

# Bare-scalp CIELAB and ITA° per Fitzpatrick type (ITA° ranges from DESIGN.md).
SKINS = {
    1: ([72.0, 7.0, 12.0], 61.4, "#e2c0ae"),
    2: ([66.0, 9.0, 16.0], 45.0, "#d2ab92"),
    3: ([60.0, 10.0, 14.3], 35.0, "#b98f75"),
    4: ([56.0, 11.0, 16.5], 20.0, "#9d7257"),
    5: ([47.0, 10.0, 17.0], -10.0, "#7a5540"),
    6: ([33.0, 8.0, 17.0], -45.0, "#4e3426"),
}
GAP_DAYS = (7, 30)  # DESIGN.md: sessions 7-30 days apart


def skin(fitz: int, confidence: float = 0.9) -> dict:
    lab, ita, hex_ = SKINS[fitz]
    return {"lab": lab, "ita_deg": ita, "fitzpatrick": fitz, "hex": hex_, "confidence": confidence}


def findings(
    fitz: int | None = 3,
    hair: str | None = "black",
    grey: float = 0.0,
    thinning: tuple[float, float | None] = (0.3, 100.0),  # (fraction of scalp, area cm²)
    bald: tuple[float, float | None] = (0.2, 60.0),
    scars: list[dict] | None = None,
    flags: list[str] | None = None,
    hairs_per_cm2: float | None = None,
    thinning_relative: float | None = 0.4,
    treatment_area_cm2: float | None = None,
) -> Findings:
    zones = {"hair": {"fraction_of_scalp": 0.5, "area_cm2": None}}
    for name, (fraction, area) in (("thinning", thinning), ("bald", bald)):
        zones[name] = {"fraction_of_scalp": fraction, "area_cm2": area}
    return Findings(
        skin=None if fitz is None else skin(fitz),
        hair=None
        if hair is None
        else {"lab": [20, 2, 4], "hex": "#2a2522", "name": hair, "grey_fraction": grey},
        zones=zones,
        density_relative={"hair": 1.0, "thinning": thinning_relative, "bald": 0.05},
        density_per_cm2=None if hairs_per_cm2 is None else {"hair": hairs_per_cm2},
        scars=scars or [],
        flags=flags or [],
        treatment_area_cm2=treatment_area_cm2,
    )


def scar(
    kind: str = "fut_strip", redness: float = 0.1, months: int | None = 24, area: float | None = 8.0
) -> dict:
    return {
        "type": kind,
        "fraction_of_scalp": 0.02,
        "area_cm2": area,
        "redness": redness,
        "months_since_surgery": months,
    }


def luminance(hex_: str) -> float:
    r, g, b = (int(hex_[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# ---------------------------------------------------------------- pigment and dilution
@pytest.mark.parametrize(("fair", "dark"), [(1, 6), (1, 3), (2, 5), (3, 4), (5, 6)], ids=lambda v: f"type{v}")
def test_fair_skin_gets_more_dilution_than_dark(fair: int, dark: int) -> None:
    light = recommend(findings(fitz=fair))["pigment"]
    deep = recommend(findings(fitz=dark))["pigment"]
    assert light["dilution_ratio"] > deep["dilution_ratio"]


@pytest.mark.parametrize("fitz", [1, 2, 3, 4, 5, 6], ids=lambda f: f"type{f}")
@pytest.mark.parametrize(
    ("hair", "grey"),
    [("grey", 0.7), ("white", 0.95), ("blond", 0.0), ("black", 0.7)],
    ids=["grey", "white", "blond", "black-but-70%-grey"],
)
def test_light_or_grey_hair_heals_lighter_than_black(fitz: int, hair: str, grey: float) -> None:
    black = recommend(findings(fitz=fitz, hair="black"))["pigment"]
    light = recommend(findings(fitz=fitz, hair=hair, grey=grey))["pigment"]
    assert light["dilution_ratio"] > black["dilution_ratio"]
    assert luminance(light["ink_hex"]) >= luminance(black["ink_hex"])
    assert luminance(light["hex"]) > luminance(black["hex"])


@pytest.mark.parametrize(
    ("own", "grey", "desired"),
    [("grey", 0.8, "black"), ("black", 0.0, "grey"), ("blond", 0.0, "dark_brown"), (None, 0.0, "brown")],
    ids=["grey-wants-black", "black-wants-grey", "blond-wants-dark-brown", "unmeasured-wants-brown"],
)
def test_desired_hair_overrides_own_hair(own: str | None, grey: float, desired: str) -> None:
    wanted = recommend(findings(fitz=2, hair=own, grey=grey), Preferences(desired_hair=desired))
    as_if_own = recommend(findings(fitz=2, hair=desired))
    for key in ("shade", "dilution_ratio", "hex"):
        assert wanted["pigment"][key] == as_if_own["pigment"][key]
    assert any("wanted" in line for line in wanted["rationale"])


@pytest.mark.parametrize(
    "skin_info",
    [None, skin(4, confidence=0.2), {"lab": None, "hex": None, "confidence": 0.9}],
    ids=["no-skin", "low-confidence", "no-type-no-ita"],
)
def test_unreliable_skin_gets_the_conservative_choice_and_a_flag(skin_info: dict | None) -> None:
    case = findings(fitz=None)
    case.skin = skin_info
    rec = recommend(case)
    fairest = recommend(findings(fitz=1))["pigment"]
    assert rec["pigment"]["dilution_ratio"] == fairest["dilution_ratio"]  # lightest typical mix
    assert "low_skin_confidence" in rec["flag_codes"]
    assert re.fullmatch(r"#[0-9a-f]{6}", rec["pigment"]["hex"])
    # the rationale must not name a skin type that was never measured
    assert "Fitzpatrick" not in rec["pigment"]["rationale"] and "unmeasured" in rec["pigment"]["rationale"]


@pytest.mark.parametrize("fitz", [1, 2, 3, 4, 5, 6], ids=lambda f: f"type{f}")
def test_ita_alone_gives_the_type(fitz: int) -> None:
    case = findings(fitz=fitz)
    case.skin = {
        "lab": SKINS[fitz][0],
        "ita_deg": SKINS[fitz][1],
        "hex": SKINS[fitz][2],
    }  # no fitzpatrick key
    rec = recommend(case)
    assert rec["pigment"] == recommend(findings(fitz=fitz))["pigment"]
    assert any("bluish" in line for line in rec["rationale"]) is (fitz <= 2)  # dark ink on fair skin
    assert "low_skin_confidence" not in rec["flag_codes"]


def test_pigment_fields_follow_the_schema() -> None:
    pig = recommend(findings(fitz=3, hair="brown"))["pigment"]
    assert pig["shade"] in {p.name for p in load_rules().catalogue.pigments}
    assert re.fullmatch(r"1:\d+(\.\d+)? \(pigment:diluent\)", pig["dilution"])
    assert float(pig["dilution"].split(":")[1].split()[0]) == pig["dilution_ratio"]
    # the healed swatch lies between the ink and the skin
    assert luminance(pig["ink_hex"]) < luminance(pig["hex"]) < luminance(SKINS[3][2])
    assert 1 <= pig["rationale"].count(".") <= 3 and pig["rationale"].strip()


# ---------------------------------------------------------------- dots per cm²
@pytest.mark.parametrize(
    ("relative", "expected_fraction"),
    [(0.4, 0.6), (0.6, 0.4), (0.9, 0.3), (None, 0.5)],
    ids=["rel0.4", "rel0.6", "rel0.9-clamped", "rel-unknown"],
)
def test_thinning_density_look_adds_fewer_dots_than_shaved(
    relative: float | None, expected_fraction: float
) -> None:
    case = findings(thinning_relative=relative)
    shaved = recommend(case, Preferences(look="shaved"))["dots_per_cm2"]
    density = recommend(case, Preferences(look="density"))["dots_per_cm2"]
    assert shaved["thinning"] == shaved["bald"] == load_rules().dots.full_density_per_cm2  # full field
    assert density["thinning"] < shaved["thinning"]
    assert density["thinning"] == round(shaved["bald"] * expected_fraction)
    assert density["hairline"] < density["bald"] and shaved["hairline"] < shaved["bald"]


@pytest.mark.parametrize(
    ("hairs", "expected"),
    [(None, 90), (160, 90), (120, 68), (40, 63), (400, 99)],
    ids=["no-scale", "average", "sparser", "clamped-low", "clamped-high"],
)
def test_full_density_matches_the_clients_own_hair(hairs: float | None, expected: int) -> None:
    assert recommend(findings(hairs_per_cm2=hairs))["dots_per_cm2"]["bald"] == expected


# ---------------------------------------------------------------- sessions and plans
PLANS = {
    "simple": (findings(), 3, False),
    "small-area": (findings(thinning=(0.05, 15.0), bald=(0.0, 0.0)), 2, False),
    "small-no-scale": (findings(thinning=(0.05, None), bald=(0.0, None)), 2, False),
    "eligible-scar": (findings(scars=[scar()]), 4, False),
    "dry-skin": (findings(flags=["dry_skin"]), 4, False),
    "scar-only": (findings(thinning=(0.0, None), bald=(0.0, None), scars=[scar()]), 4, False),
    "raised-scar-plus-loss": (findings(scars=[scar("raised")]), 3, True),
    "raised-scar-only": (findings(thinning=(0.0, None), bald=(0.0, None), scars=[scar("raised")]), 0, True),
    "alopecia": (findings(flags=["possible_alopecia_areata"]), 0, True),
    "inflamed": (findings(flags=["inflamed"]), 0, True),
    "unusable-photo": (findings(flags=["unusable_photo"]), 0, False),
    "no-loss": (findings(thinning=(0.0, 0.0), bald=(0.004, 1.0)), 0, False),
    "fresh-scar-plus-loss": (findings(scars=[scar(redness=0.7, months=4)]), 3, False),
}


@pytest.mark.parametrize(("case", "count", "refer"), list(PLANS.values()), ids=list(PLANS))
def test_session_count_and_referral(case: Findings, count: int, refer: bool) -> None:
    rec = recommend(case)
    assert len(rec["sessions"]) == count
    assert rec["refer"] is refer
    assert [s["number"] for s in rec["sessions"]] == list(range(1, count + 1))
    if count:
        assert rec["sessions"][0]["days_after_previous"] == 0
        assert all(GAP_DAYS[0] <= s["days_after_previous"] <= GAP_DAYS[1] for s in rec["sessions"][1:])
        assert all(s["focus"].strip() for s in rec["sessions"])
        final, first = rec["dots_per_cm2"], rec["dots_per_cm2_session1"]
        assert all(isinstance(final[z], int) for z in ("thinning", "bald", "hairline"))
        assert all(first[z] < final[z] for z in final if final[z] is not None)
    else:  # no plan: no densities and no estimates (documented in smpvision/recommend.py)
        assert set(rec["dots_per_cm2"].values()) == {None} and rec["hours_estimate"] is None
    assert rec["touch_up_years"] == [2, 5]
    assert rec["rationale"] and len(rec["flags"]) == len(rec["flag_codes"])  # one sentence per code


def test_no_loss_says_no_smp_is_indicated() -> None:
    rec = recommend(PLANS["no-loss"][0])
    assert any("no SMP is indicated" in line for line in rec["rationale"])
    assert not rec["flags"]


@pytest.mark.parametrize(
    ("flag", "words"),
    [("inflamed", "doctor"), ("possible_alopecia_areata", "regrow"), ("unusable_photo", "retake")],
    ids=["inflamed", "alopecia", "unusable"],
)
def test_blocking_flags_explain_themselves(flag: str, words: str) -> None:
    rec = recommend(findings(flags=[flag]))
    assert rec["flag_codes"] == [flag] and words in rec["flags"][0]
    assert any(line.startswith("No SMP plan") for line in rec["rationale"])


# ---------------------------------------------------------------- scars
@pytest.mark.parametrize(
    ("scar_info", "eligible", "code", "words"),
    [
        (scar("fut_strip"), True, None, "beyond the scar edge"),
        (scar("fue_dots", months=None), True, None, "2-5 mm"),
        (scar("irregular", months=12), True, None, "camouflage"),
        (scar("fut_strip", redness=0.7), False, "fresh_scar", "9-12 months"),
        (scar("fue_dots", months=5), False, "fresh_scar", "wait"),
        (scar("raised", redness=0.0), False, "raised_scar", "not suitable"),
    ],
    ids=["flat-fut", "fue-unknown-age", "irregular-12mo", "red-fut", "young-fue", "raised"],
)
def test_scar_eligibility(scar_info: dict, eligible: bool, code: str | None, words: str) -> None:
    rec = recommend(findings(scars=[scar_info]))
    (verdict,) = rec["scars"]
    assert (
        verdict["type"] == scar_info["type"] and verdict["eligible"] is eligible and words in verdict["note"]
    )
    assert (rec["dots_per_cm2"]["scar"] is not None) is eligible  # no plan for an ineligible scar
    assert (code in rec["flag_codes"]) if code else not rec["flag_codes"]
    assert rec["refer"] is (code == "raised_scar")
    if eligible:
        assert "Scar camouflage" in rec["sessions"][-1]["focus"]


def test_scars_keep_the_order_of_the_findings_and_the_rest_is_still_planned() -> None:
    rec = recommend(findings(scars=[scar("raised"), scar("fue_dots"), scar(redness=0.9)]))
    assert [s["type"] for s in rec["scars"]] == ["raised", "fue_dots", "fut_strip"]
    assert [s["eligible"] for s in rec["scars"]] == [False, True, False]
    assert rec["refer"] and len(rec["sessions"]) == 4 and rec["dots_per_cm2"]["scar"] is not None
    assert rec["flag_codes"] == ["raised_scar", "fresh_scar"]


def test_long_hair_suggests_the_density_look_unless_chosen() -> None:
    shaved = recommend(findings(flags=["long_hair"]))
    density = recommend(findings(flags=["long_hair"]), Preferences(look="density"))
    assert "density" in shaved["flags"][0]
    assert density["flag_codes"] == ["long_hair"] and not density["flags"]


# ---------------------------------------------------------------- estimates
@pytest.mark.parametrize(
    ("case", "has_estimate"),
    [
        (findings(), True),
        (findings(scars=[scar()]), True),
        (findings(thinning=(0.3, None), bald=(0.2, None)), False),
        (findings(thinning=(0.3, None), bald=(0.2, None), treatment_area_cm2=150.0), True),
        (findings(scars=[scar(area=None)]), False),
    ],
    ids=["zone-areas", "with-scar-area", "no-scale", "analysis-area-only", "scar-without-area"],
)
def test_dots_and_hours_estimate_only_with_an_area(case: Findings, has_estimate: bool) -> None:
    rec = recommend(case)
    assert (rec["treatment_area_cm2"] is not None) is has_estimate
    assert (rec["dots_estimate"] is not None) is has_estimate
    assert (rec["hours_estimate"] is not None) is has_estimate
    if has_estimate:
        lo, hi = rec["hours_estimate"]
        assert isinstance(rec["dots_estimate"], int) and rec["dots_estimate"] > 0 and 0 < lo <= hi


def test_estimate_adds_up_over_sessions() -> None:
    rules = load_rules()
    rec = recommend(findings(thinning=(0.3, 100.0), bald=(0.2, 60.0)))
    finished = 100.0 * rec["dots_per_cm2"]["thinning"] + 60.0 * rec["dots_per_cm2"]["bald"]
    expected = finished * sum(rules.sessions.session_dot_fractions[: len(rec["sessions"])])
    assert rec["treatment_area_cm2"] == 160.0 and rec["dots_estimate"] == round(expected)


# ---------------------------------------------------------------- preferences and YAML rules
@pytest.mark.parametrize(
    "prefs", [Preferences(look="mohawk"), Preferences(desired_hair="purple")], ids=["bad-look", "bad-hair"]
)
def test_unknown_preferences_are_rejected(prefs: Preferences) -> None:
    with pytest.raises(ValueError, match="mohawk|purple"):
        recommend(findings(), prefs)


def _write_rules(tmp_path: Path, edit: typing.Callable[[dict], None], name: str = "recommend.yaml") -> Path:
    raw = yaml.safe_load((CONFIG_DIR / name).read_text())
    edit(raw)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("section", "key", "value", "field", "expected"),
    [
        ("dots", "full_density_per_cm2", 60, ("dots_per_cm2", "bald"), 60),
        ("skin", "base_dilution", [5, 3, 2, 1.5, 1, 0.5], ("pigment", "dilution_ratio"), 5.0),
        ("sessions", "default_count", 2, ("sessions",), 2),
    ],
    ids=["full-density", "base-dilution", "session-count"],
)
def test_custom_yaml_changes_the_output(
    tmp_path: Path, section: str, key: str, value, field, expected
) -> None:
    path = _write_rules(tmp_path, lambda raw: raw[section].__setitem__(key, value))
    rec = recommend(findings(fitz=1), rules=load_rules(recommend_path=path))
    got = rec[field[0]] if len(field) == 1 else rec[field[0]][field[1]]
    assert (len(got) if isinstance(got, list) else got) == expected
    assert recommend(findings(fitz=1)) != rec  # the packaged rules are untouched


def _set(path: list[str], value: object) -> typing.Callable[[dict], None]:
    def edit(raw: dict) -> None:
        node = raw
        for part in path[:-1]:
            node = node[part] if not isinstance(node, list) else node[int(part)]
        node[path[-1] if not isinstance(node, list) else int(path[-1])] = value

    return edit


def _drop(path: list[str]) -> typing.Callable[[dict], None]:
    def edit(raw: dict) -> None:
        node = raw
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("recommend.yaml", _set(["dots", "full_densty"], 80), "unknown key 'dots.full_densty'"),
        ("recommend.yaml", _set(["colour"], 1), "unknown key 'colour'"),
        ("recommend.yaml", _drop(["sessions", "intervals_days"]), "missing key 'sessions.intervals_days'"),
        ("recommend.yaml", _drop(["flags"]), "missing key 'flags'"),
        ("recommend.yaml", _set(["dots", "bald"], "full"), "dots.bald must be a float"),
        ("recommend.yaml", _set(["skin", "base_dilution"], [4, 3, 2]), "skin.base_dilution needs 6 values"),
        ("recommend.yaml", _set(["flags", "refer"], ["sunburnt"]), "unknown code"),
        ("recommend.yaml", _set(["sessions", "extra_count"], 6), "sessions.extra_count"),
        ("pigments.yaml", _set(["default_shade"], "teal"), "default_shade"),
        ("recommend.yaml", _set(["scars", "notes", "fresh"], "wait {weeks}"), "scars.notes.fresh"),
        ("pigments.yaml", _set(["pigments", "0", "hex"], "#12345"), "pigments[0].hex"),
        ("pigments.yaml", _set(["pigments", "1", "tint"], "blue"), "unknown key 'pigments[1].tint'"),
        ("pigments.yaml", _set(["pigments", "2", "suits_hair"], ["green"]), "pigments[2].suits_hair"),
        ("pigments.yaml", _set(["dilution_steps"], [3, 1]), "dilution_steps"),
    ],
    ids=[
        "typo",
        "unknown-top",
        "missing",
        "missing-section",
        "wrong-type",
        "wrong-length",
        "bad-flag",
        "too-many-sessions",
        "unknown-shade",
        "bad-template",
        "bad-hex",
        "pigment-typo",
        "unknown-hair",
        "unsorted-steps",
    ],
)
def test_bad_yaml_is_rejected_naming_the_file_and_key(tmp_path: Path, name: str, edit, message: str) -> None:
    path = _write_rules(tmp_path, edit, name)
    kwargs = {"recommend_path": path} if name == "recommend.yaml" else {"pigments_path": path}
    with pytest.raises(ValueError) as err:
        load_rules(**kwargs)
    assert str(path) in str(err.value) and message.replace("'", "") in str(err.value).replace("'", "")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nope.yaml"):
        load_rules(recommend_path=tmp_path / "nope.yaml")


def test_every_pigment_hex_is_valid_and_suits_something() -> None:
    pigments = load_rules().catalogue.pigments
    assert len(pigments) >= 3
    for p in pigments:
        assert re.fullmatch(r"#[0-9a-fA-F]{6}", p.hex), p.name
        assert p.suits_fitzpatrick and p.suits_hair and p.label and p.note


def _walk(cls: type, raw: dict, where: str = "") -> list[str]:
    """Keys a dataclass reads that the raw YAML lacks (recursively)."""
    missing = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in raw:
            missing.append(where + f.name)
        elif dataclasses.is_dataclass(hints[f.name]):
            missing += _walk(hints[f.name], raw[f.name], f"{where}{f.name}.")
    return missing


def test_every_rule_the_code_reads_is_in_the_packaged_yaml() -> None:
    raw = yaml.safe_load((CONFIG_DIR / "recommend.yaml").read_text())
    assert _walk(RecommendFile, raw) == []
    rules = load_rules()
    assert set(FLAG_CODES) <= set(rules.flags.text)
    assert set(SCAR_TYPES) <= set(rules.scars.names)
    hair_names = {
        "black",
        "dark_brown",
        "brown",
        "light_brown",
        "blond",
        "red",
        "salt_and_pepper",
        "grey",
        "white",
    }
    assert hair_names <= set(rules.hair.extra_dilution)  # the renderer's / analysis' hair colour names
    every_suited = {
        (f, h) for p in rules.catalogue.pigments for f in p.suits_fitzpatrick for h in p.suits_hair
    }
    assert {(f, h) for f in range(1, 7) for h in hair_names} <= every_suited  # no fallback needed


@pytest.mark.parametrize("name", ["recommend.yaml", "pigments.yaml"])
def test_top_level_configs_are_the_packaged_files(name: str) -> None:
    top = Path(__file__).resolve().parents[1] / "configs" / name
    assert top.resolve() == (CONFIG_DIR / name).resolve()
