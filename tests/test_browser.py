"""The app in headless Chromium, as a technician uses it: upload a photo into a view slot, press Assess,
read the results; and the one-click example. Saves outputs/app_screenshot.png to look at.

Needs the Debian `chromium` package (/usr/bin/chromium) and the `playwright` package (its driver only:
no browser download); skips with the reason when either is missing."""

from __future__ import annotations

import re
import shutil

import pytest

pytest.importorskip("gradio", reason="the app needs the app extra: pip install -e '.[app]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="browser test needs playwright (the dev extra)")

from app_server import ROOT, app_url  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH; Debian: apt-get install chromium"),
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
EXAMPLES = ROOT / "smpvision" / "data" / "examples"
SCREENSHOT = ROOT / "outputs" / "app_screenshot.png"
FAILURE_SHOT = ROOT / "outputs" / "app_failure.png"
SERVER_LOG = ROOT / "outputs" / "app_test_server.log"  # app_server.app_url()'s log


def wait_or_explain(page, selector: str) -> object:
    """wait_for_selector, but a timeout leaves what is needed to tell an app fault from a slow machine: a
    screenshot of the page (outputs/app_failure.png) and the end of the server's log in the message.
    An upload that was never shown failed this way once in CI and never again locally."""
    try:
        return page.wait_for_selector(selector)
    except sync_api.TimeoutError as exc:
        FAILURE_SHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(FAILURE_SHOT), full_page=True)
        log = SERVER_LOG.read_text(errors="replace")[-3000:] if SERVER_LOG.exists() else "(no server log)"
        raise AssertionError(
            f"{selector!r} not shown: {exc}; page screenshot in {FAILURE_SHOT}; server log tail:\n{log}"
        ) from exc


@pytest.fixture(scope="module")
def page():
    url = app_url()
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # A laptop-sized window in light mode: what a technician at the front desk sees.
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        pg.goto(url)
        pg.wait_for_selector("#assess-button")
        yield pg
        browser.close()


def test_upload_assess_and_screenshot(page) -> None:
    """Two photos in two view slots, Assess, and every result panel filled in; the screenshot is for a
    person to look at (outputs/app_screenshot.png)."""
    page.locator("#photos-crown input[type=file]").set_input_files(str(EXAMPLES / "crown.jpg"))
    # one upload at a time: a second one started while the first is still being processed was once
    # never shown (CI, 60 s timeout)
    wait_or_explain(page, "#photos-crown :text('crown.jpg')")
    page.locator("#photos-closeup input[type=file]").set_input_files(str(EXAMPLES / "closeup_scar.jpg"))
    wait_or_explain(page, "#photos-closeup :text('closeup_scar.jpg')")
    page.click("#assess-button")
    verdict = wait_or_explain(page, "#verdict .verdict")
    page.wait_for_selector("#figures img")
    page.wait_for_selector("#downloads :text('.pdf')")
    page.wait_for_load_state("networkidle")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert verdict.inner_text().strip()
    assert page.locator("#details .chip").count() == 4  # skin, hair, healed pigment, ink
    assert "Session plan" in page.locator("#details").inner_text()
    assert "Thinning" in page.locator("#zones").inner_text()
    assert page.locator("#figures img").count() >= 4  # overlay and density map per photo (+ thumbnails)


def test_one_click_example(page) -> None:
    """A newcomer clicks an example and gets results without uploading anything."""
    page.get_by_role("button", name="Top with the scale card").click()
    page.wait_for_selector("#figures :text('top_with_scale_card.jpg')")
    page.wait_for_function("document.querySelector('#zones').innerText.includes('Hairline')")
    # The card gives the photo a scale, so the zones get areas: the only decimals in the table (cm²).
    assert re.search(r"\d+\.\d", page.locator("#zones").inner_text())
