"""The app through `gradio_client` against `python app.py` on a free port: the `/assess` API (valid JSON,
clear errors, 8 technicians at once) and the Assess button's flow (`/analyse`: overlays, report files, no
EXIF/GPS from the upload). The request checks run without a server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from smpvision.app_logic import (
    MAX_FILE_MB,
    MAX_PHOTOS,
    UNEXPECTED,
    Choices,
    Engine,
    ReportFolder,
    check_request,
)
from smpvision.assess import load_schema
from smpvision.synth import render_sample

VALIDATOR = jsonschema.Draft202012Validator(load_schema())
CAMERA = "SMPTESTCAMERA"
HAIR_NAMES = ["black", "brown", "grey"]


def valid(doc: dict) -> dict:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return doc


# --------------------------------------------------------------------- request checks (no server needed)


def test_requests_are_checked_with_plain_words() -> None:
    one = [("crown.jpg", "crown")]
    assert check_request(one, Choices(), HAIR_NAMES) is None
    assert "at least one photo" in check_request([], Choices(), HAIR_NAMES)
    too_many = [(f"p{i}.jpg", "top") for i in range(MAX_PHOTOS + 1)]
    assert f"more than {MAX_PHOTOS}" in check_request(too_many, Choices(), HAIR_NAMES)
    assert "not plausible" in check_request(one, Choices(mm_per_px=40.0), HAIR_NAMES)
    assert "Unknown hair colour" in check_request(one, Choices(desired_hair="purple"), HAIR_NAMES)


def test_an_unexpected_failure_is_a_message_not_a_traceback(monkeypatch, caplog) -> None:
    engine = Engine(workers=1)

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail the technician must not see")

    monkeypatch.setattr(engine, "assess", broken)
    try:
        res = engine.run({"crown": ["crown.jpg"]}, Choices(), lambda *_: None)
    finally:
        engine.close()
    assert UNEXPECTED.split(".")[0] in res.verdict_html and "internal detail" not in res.verdict_html
    assert "internal detail" in caplog.text  # the operator still gets it in the log
    assert not res.gallery and not res.downloads


def test_report_folder_is_swept_and_removed() -> None:
    folder = ReportFolder(keep_s=0.0)
    root = folder.root
    old = root / "old"
    old.mkdir()
    (old / "r.pdf").write_bytes(b"%PDF-")
    time.sleep(0.01)
    folder._sweep()
    assert not old.exists()
    folder.remove()
    assert not root.exists()


# --------------------------------------------------------------------- against the running app

gradio_client = pytest.importorskip("gradio_client", reason="app tests need the dev extra (gradio_client)")
pytest.importorskip("gradio", reason="the app needs the app extra: pip install -e '.[app]'")

from app_server import app_url, start, stop  # noqa: E402


@pytest.fixture(scope="module")
def downloads_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")  # not the client's default, the shared /tmp/gradio


@pytest.fixture(scope="module")
def client(downloads_dir):
    return gradio_client.Client(app_url(), verbose=False, download_files=str(downloads_dir))


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("uploads")
    crown = folder / "crown.jpg"
    exif = Image.Exif()
    exif[0x010F] = CAMERA
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 7.0)})
    Image.fromarray(render_sample((2024, 37), 512, "overview", region="crown").image).save(crown, exif=exif)
    top = folder / "top.png"
    Image.fromarray(render_sample((7, 2), 384, "overview", region="top").image).save(top)
    close = folder / "close.png"
    Image.fromarray(render_sample((2024, 136), 384, "closeup").image).save(close)
    bad = folder / "scan.jpg"
    bad.write_text("this is a text file, not a photo")
    return {"crown": crown, "top": top, "closeup": close, "bad": bad}


slow = pytest.mark.slow


@slow
def test_assess_endpoint_returns_valid_json(client, photos) -> None:
    doc = client.predict(gradio_client.handle_file(str(photos["top"])), api_name="/assess")
    assert isinstance(doc, dict)
    valid(doc)
    assert doc["status"] == "ok" and doc["file"] == "top.png"
    assert doc["recommendation"]["pigment"]["hex"].startswith("#")


@slow
def test_assess_endpoint_takes_the_options(client, photos) -> None:
    doc = client.predict(
        gradio_client.handle_file(str(photos["closeup"])),
        view="closeup",
        mm_per_px=0.01,
        look="density",
        desired_hair="grey",
        api_name="/assess",
    )
    valid(doc)
    assert doc["view"] == {"kind": "closeup", "source": "given", "tag": "closeup"}
    assert doc["calibration"]["source"] == "given"
    assert any("grey" in line for line in doc["recommendation"]["rationale"])


@slow
def test_a_bad_upload_gets_a_clear_message(client, photos) -> None:
    doc = client.predict(gradio_client.handle_file(str(photos["bad"])), api_name="/assess")
    valid(doc)
    assert doc["status"] == "error"
    assert doc["error"].startswith("scan.jpg: ") and "JPEG or PNG" in doc["error"]
    assert "Traceback" not in doc["error"] and "\n" not in doc["error"]


@slow
def test_eight_technicians_at_once(photos, downloads_dir) -> None:
    """8 concurrent /assess calls (own client each, as 8 browsers would be) all succeed."""
    url = app_url()

    def one(i: int) -> tuple[dict, float]:
        c = gradio_client.Client(url, verbose=False, download_files=str(downloads_dir))
        photo = photos["top"] if i % 2 else photos["crown"]
        t0 = time.perf_counter()
        doc = c.predict(gradio_client.handle_file(str(photo)), api_name="/assess")
        return doc, time.perf_counter() - t0

    t0 = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    wall = time.perf_counter() - t0
    assert [valid(doc)["status"] for doc, _ in results] == ["ok"] * 8
    print(f"8 concurrent /assess: {wall:.1f} s wall, slowest call {max(t for _, t in results):.1f} s")


@slow
def test_assess_button_flow_outputs_carry_no_exif(client, photos) -> None:
    f = gradio_client.handle_file
    verdict, gallery, details, table, downloads, document = client.predict(
        [f(str(photos["crown"]))], None, None, None, None, [f(str(photos["closeup"]))],
        "shaved", "own", 0, api_name="/analyse",
    )  # fmt: skip
    assert 'class="verdict' in verdict and ("SMP plan" in verdict or "Refer" in verdict or "No " in verdict)
    assert "Colours and pigment" in details and "Why" in details
    assert [row[0] for row in table["data"]][:4] == ["Hair", "Thinning", "Bald", "Scar"]
    captions = [item["caption"] for item in gallery]
    assert captions == [
        "crown.jpg: zones",
        "crown.jpg: hair density",
        "close.png: zones",
        "close.png: hair density",
    ]
    for item in gallery:
        with Image.open(item["image"]) as im:
            assert im.format == "PNG" and not im.getexif() and "exif" not in im.info
            assert not {k for k in im.info if isinstance(im.info[k], str)}  # no text chunks
    pdf = next(Path(p) for p in downloads if p.endswith(".pdf"))
    data = json.loads(next(Path(p) for p in downloads if p.endswith(".json")).read_text())
    assert pdf.read_bytes().startswith(b"%PDF-") and CAMERA.encode() not in pdf.read_bytes()
    assert valid(data)["status"] == "ok" and data == document
    assert [p["file"] for p in data["photos"]] == ["crown.jpg", "close.png"]


@slow
def test_assess_button_without_photos_says_what_to_do(client) -> None:
    verdict, gallery, details, table, downloads, document = client.predict(
        None, None, None, None, None, None, "shaved", "own", 0, api_name="/analyse"
    )
    assert "Add at least one photo" in verdict
    assert not gallery and not downloads and document is None


@slow
def test_assess_button_with_only_bad_photos_names_them(client, photos) -> None:
    f = gradio_client.handle_file
    verdict, gallery, *_ = client.predict(
        [f(str(photos["bad"]))], None, None, None, None, None, "shaved", "own", 0, api_name="/analyse"
    )
    assert "Not assessed" in verdict and "scan.jpg" in verdict and "Traceback" not in verdict
    assert not gallery


@slow
def test_uploads_over_the_size_limit_are_refused() -> None:
    """The server itself refuses a file over 25 MB (a browser or client that skips its own check)."""
    import httpx

    body = b"\xff\xd8" + bytes(MAX_FILE_MB * 1024 * 1024 + 10)
    r = httpx.post(
        app_url() + "gradio_api/upload", files={"files": ("huge.jpg", body, "image/jpeg")}, timeout=60
    )
    assert r.status_code == 413, r.text[:200]


@slow
def test_stopping_the_app_empties_the_upload_cache(tmp_path: Path, photos) -> None:
    """Patients' photos do not outlive the app: SIGTERM shuts it down cleanly and Gradio's cache of
    uploads and outputs is emptied (while running, `delete_cache` sweeps files older than an hour)."""
    cache = tmp_path / "cache"
    proc, url = start("app_test_server_stop.log", GRADIO_TEMP_DIR=str(cache))
    try:
        c = gradio_client.Client(url, verbose=False, download_files=str(tmp_path / "downloads"))
        f = gradio_client.handle_file
        out = c.predict([f(str(photos["crown"]))], None, None, None, None, None, "shaved", "own", 0,
                        api_name="/analyse")  # fmt: skip
        assert out[-1]["status"] == "ok"
        assert list(cache.rglob("crown.jpg")), "the upload should be in the cache while the app runs"
    finally:
        code = stop(proc)
    assert code == 0
    # Gradio may leave empty placeholders of its multipart parser; nothing with content may remain.
    assert not [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 0]


@slow
def test_the_app_never_imports_torch(tmp_path: Path) -> None:
    """The app runs on the runtime install: building it loads no torch even where torch is installed."""
    code = (
        "import sys; from smpvision.app_logic import Engine; from smpvision.app_ui import build_app; "
        "build_app(Engine(workers=1)); assert 'torch' not in sys.modules, 'torch was imported'"
    )
    env = dict(os.environ, GRADIO_TEMP_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
