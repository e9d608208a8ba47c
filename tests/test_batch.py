"""`smpvision score` (batch), `info` and `bench`: discovery, error isolation, exit codes, resume, exactly-once
after a hard kill, CSV / overlays / masks / reports, and no patient metadata in what is written."""

from __future__ import annotations

import collections
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

from smpvision import batch
from smpvision.assess import load_schema
from smpvision.cli import main
from smpvision.synth import render_sample


@pytest.fixture(scope="module")
def rendered() -> list[np.ndarray]:
    return [render_sample(seed=(31, i), size=256, kind="overview").image for i in range(3)]


@pytest.fixture
def photos(tmp_path: Path, rendered: list[np.ndarray]) -> Path:
    """A clinic folder: three good photos (one in a sub-folder, one PNG) and one broken file."""
    folder = tmp_path / "clinic"
    (folder / "visit2").mkdir(parents=True)
    Image.fromarray(rendered[0]).save(folder / "a.jpg", quality=92)
    Image.fromarray(rendered[1]).save(folder / "b.png")
    Image.fromarray(rendered[2]).save(folder / "visit2" / "c.jpg", quality=92)
    (folder / "broken.jpg").write_text("this is not a photo")
    (folder / "notes.txt").write_text("not an image extension: never picked up from a folder")
    return folder


def rows_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "a torn last line was left behind"
    return [json.loads(line) for line in text.splitlines()]


def exactly_once(rows: list[dict]) -> collections.Counter:
    counts = collections.Counter(r["file"] for r in rows)
    assert max(counts.values()) == 1, f"some photos appear more than once: {counts.most_common(3)}"
    return counts


# ----------------------------------------------------------------------------------------------- discovery


def test_find_photos_walks_folders_globs_and_files(photos: Path, tmp_path: Path) -> None:
    (photos / ".hidden").mkdir()
    Image.new("RGB", (80, 80)).save(photos / ".hidden" / "x.jpg")
    found = batch.find_photos([str(photos)])
    names = sorted(p.path.name for p in found)
    assert names == ["a.jpg", "b.png", "broken.jpg", "c.jpg"]  # no .txt, no hidden folder
    assert {p.stem for p in found} == {"a", "b", "broken", "visit2/c"}  # sub-folders kept for outputs
    globbed = batch.find_photos([str(photos / "**" / "*.jpg")])
    assert sorted(p.path.name for p in globbed) == ["a.jpg", "broken.jpg", "c.jpg"]
    # a file named explicitly is taken whatever its extension (it will become an error row, not vanish)
    assert [p.path.name for p in batch.find_photos([str(photos / "notes.txt")])] == ["notes.txt"]
    # the same photo given twice (file and folder) is scored once
    assert len(batch.find_photos([str(photos / "a.jpg"), str(photos)])) == 4


def test_find_photos_excludes_output_folders_and_keeps_names_unique(tmp_path: Path) -> None:
    for sub in ("x", "y", "x/overlays"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (80, 80)).save(tmp_path / sub / "same.jpg")
    found = batch.find_photos(
        [str(tmp_path / "x"), str(tmp_path / "y")], exclude=[tmp_path / "x" / "overlays"]
    )
    assert sorted(p.stem for p in found) == ["same", "same__2"]


def test_find_photos_reports_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(batch.UsageError, match="no such file"):
        batch.find_photos([str(tmp_path / "nope")])
    with pytest.raises(batch.UsageError, match="no file matches"):
        batch.find_photos([str(tmp_path / "*.jpg")])


# ------------------------------------------------------------------------------------------------- score


def test_score_isolates_a_broken_file_and_writes_every_output(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out, table = tmp_path / "results.jsonl", tmp_path / "results.csv"
    masks, overlays, reports = tmp_path / "masks", tmp_path / "overlays", tmp_path / "reports"
    code = main([
        "score", str(photos), "--out", str(out), "--csv", str(table), "--masks", str(masks),
        "--overlays", str(overlays), "--report", str(reports), "--workers", "1",
    ])  # fmt: skip
    assert code == 1  # one photo failed
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "4 photos: 3 scored ok, 1 failed" in err
    assert "Traceback" not in err
    rows = rows_of(out)
    exactly_once(rows)
    by_name = {Path(r["file"]).name: r for r in rows}
    assert by_name["broken.jpg"]["status"] == "error"
    assert "not an image" in by_name["broken.jpg"]["error"] and "\n" not in by_name["broken.jpg"]["error"]
    schema = load_schema()
    for row in rows:
        jsonschema.validate(row, schema)
        assert row["model"]["name"] == "smpvision-zones.onnx" and len(row["model"]["sha256"]) == 64
    for name in ("a.jpg", "b.png", "c.jpg"):
        assert by_name[name]["status"] == "ok"
    # CSV: one row per results line, with the headline columns filled for the good photos
    with open(table, newline="") as f:
        table_rows = list(csv.DictReader(f))
    assert len(table_rows) == 4
    good = [r for r in table_rows if r["status"] == "ok"]
    assert all(float(r["hair_share"]) + float(r["bald_share"]) + float(r["thinning_share"]) > 0 for r in good)
    assert all(r["pigment_shade"] for r in good)
    # masks: zone ids at the photo's own size and name; overlays and reports for every scored photo
    for stem, src in (("a", photos / "a.jpg"), ("visit2/c", photos / "visit2" / "c.jpg")):
        mask = Image.open(masks / f"{stem}.png")
        assert mask.size == Image.open(src).size and mask.mode == "L"
        assert set(np.unique(np.asarray(mask))) <= {0, 1, 2, 3, 4}
        assert Image.open(overlays / f"{stem}.png").size[0] >= 256
        assert "<html" in (reports / f"{stem}.html").read_text().lower()
    assert not (masks / "broken.png").exists()


def test_score_exit_codes(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "ok.jsonl"
    assert (
        main(
            ["score", str(photos / "a.jpg"), str(photos / "b.png"), "--out", str(out), "-q", "--workers", "1"]
        )
        == 0
    )
    for bad in (
        ["score", str(tmp_path / "missing"), "--out", str(out)],  # no such path
        ["score", str(photos), "--out", str(out), "--workers", "0"],
        ["score", str(photos), "--out", str(tmp_path)],  # --out is a folder
        ["score", str(photos), "--out", str(out), "--view", "sideways"],
        ["score", str(photos), "--out", str(out), "--model", str(tmp_path / "none.onnx")],
    ):
        with pytest.raises(SystemExit) as exc:
            main(bad)
        assert exc.value.code == 2, bad
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SystemExit) as exc:
        main(["score", str(empty), "--out", str(out)])
    assert exc.value.code == 2


def test_a_model_that_is_not_an_onnx_file_is_one_clear_error(
    photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"not a model")
    assert main(["score", str(photos), "--out", str(tmp_path / "r.jsonl"), "--model", str(fake)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("smpvision: error:") and len(err.splitlines()) == 1
    assert not (tmp_path / "r.jsonl").exists()


def test_rerun_resumes_retries_errors_and_keeps_every_photo_once(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    args = ["score", str(photos), "--out", str(out), "-q", "--workers", "1"]
    assert main(args) == 1
    first = {r["file"]: r for r in rows_of(out)}
    # the broken photo is fixed between runs; a good one is edited (new content)
    Image.fromarray(render_sample(seed=(31, 7), size=256).image).save(photos / "broken.jpg")
    Image.fromarray(render_sample(seed=(31, 8), size=256).image).save(photos / "b.png")
    assert main(args) == 0
    second = {r["file"]: r for r in rows_of(out)}
    exactly_once(rows_of(out))
    assert set(second) == set(first)
    assert all(r["status"] == "ok" for r in second.values())
    a, b = str(photos / "a.jpg"), str(photos / "b.png")
    assert second[a] == first[a]  # unchanged photo: skipped, its row kept as it was
    assert second[b]["image"]["sha256"] != first[b]["image"]["sha256"]  # changed photo: scored again
    # --force redoes everything, still once each
    assert main([*args, "--force"]) == 0
    assert len(exactly_once(rows_of(out))) == 4


def test_rows_of_other_batches_are_kept(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert main(["score", str(photos / "a.jpg"), "--out", str(out), "-q", "--workers", "1"]) == 0
    assert main(["score", str(photos / "b.png"), "--out", str(out), "-q", "--workers", "1", "--force"]) == 0
    assert sorted(Path(r["file"]).name for r in rows_of(out)) == ["a.jpg", "b.png"]


def test_a_torn_last_line_is_dropped_and_the_photo_scored_again(photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    args = ["score", str(photos / "a.jpg"), str(photos / "b.png"), "--out", str(out), "-q", "--workers", "1"]
    assert main(args) == 0
    lines = out.read_text().splitlines(keepends=True)
    out.write_text(lines[0] + lines[1][: len(lines[1]) // 2])  # as a kill in the middle of a write leaves it
    assert main(args) == 0
    rows = rows_of(out)
    assert len(exactly_once(rows)) == 2 and all(r["status"] == "ok" for r in rows)


def test_outputs_carry_no_exif_or_gps(tmp_path: Path, rendered: list[np.ndarray]) -> None:
    src = tmp_path / "in" / "patient.jpg"
    src.parent.mkdir()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS IFD
    Image.fromarray(rendered[0]).save(src, exif=exif.tobytes(), quality=92)
    assert Image.open(src).getexif().get(0x010F) == "PhoneMaker"
    out = tmp_path / "o"
    code = main([
        "score", str(src), "--out", str(tmp_path / "r.jsonl"), "--overlays", str(out / "ov"),
        "--masks", str(out / "m"), "--report", str(out / "rep"), "-q", "--workers", "1",
    ])  # fmt: skip
    assert code == 0
    for png in (out / "ov" / "patient.png", out / "m" / "patient.png"):
        data = png.read_bytes()
        assert b"PhoneMaker" not in data and b"eXIf" not in data and b"Exif" not in data
        assert not Image.open(png).getexif()
    assert b"PhoneMaker" not in (out / "rep" / "patient.html").read_bytes()


@pytest.mark.slow
def test_kill_9_mid_batch_then_rerun_gives_every_photo_exactly_once(tmp_path: Path, rendered) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    n = 24
    for i in range(n):
        Image.fromarray(rendered[i % 3]).save(folder / f"p{i:02d}.jpg", quality=85 + i % 10)
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "smpvision", "score", str(folder), "--out", str(out), "--workers", "2", "-q"]
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n") >= 3:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the batch finished before it could be killed; make it longer"
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers, mid-batch, without any clean-up
    proc.wait()
    partial = out.read_text()
    done_before = partial.count("\n")
    assert 3 <= done_before < n
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    rows = rows_of(out)
    assert sorted(exactly_once(rows)) == sorted(str(p) for p in folder.iterdir())
    assert all(r["status"] == "ok" for r in rows)


# ---------------------------------------------------------------------------------------------- info/bench


def test_info_prints_the_model_metadata(capsys: pytest.CaptureFixture) -> None:
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert json.loads(info["metadata"]["smpvision.class_names"])[0] == "background"
    assert info["metadata"]["smpvision.format_version"] == "1"
    assert [i["name"] for i in info["inputs"]] == ["image"]
    assert {o["name"] for o in info["outputs"]} == {"zones", "density"}
    assert main(["info"]) == 0
    assert "class_names" in capsys.readouterr().out


def test_info_on_a_missing_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", "--model", str(tmp_path / "x.onnx")]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.slow
def test_bench_times_model_and_assessment(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "--runs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["ms"]) == {
        "model 512x512",
        "model 1024x768",
        "assess overview 1024",
        "assess closeup 1024",
    }
    assert all(v > 0 for v in result["ms"].values())
