"""report.html in a real headless browser: Playwright driving Debian's Chromium.

The real pipeline runs on a small simulated experiment whose names hold HTML markup
(tests/reportcase.py); the page is opened from disk (file://) and must show those names as text,
run no script, load every embedded image, and hold every CSV's rows.

Skipped when Chromium or the playwright package is missing, except under CI (the CI variable set),
where that is a failure: CI must never skip this silently. Playwright's own browser download is
not used (the machines running this have no network beyond package registries); .ci/run installs
Debian's chromium.
"""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import reportcase as rc  # tests/ is on sys.path

from blotquant.config import load_config
from blotquant.pipeline import run, write_results

CHROMIUM = os.environ.get("BLOTQUANT_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]
CSVS = ("summary.csv", "stats.csv", "normalized.csv", "bands.csv")


def _browser_or_skip():
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package (pip install '.[test]')")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        reason = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run it, not skip it")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    cfg, _ = rc.build(folder)
    out = write_results(run(load_config(cfg)), folder / "out", experiment_name=rc.EXPERIMENT)
    return out


def test_report_opens_clean_in_chromium(report):
    sync_playwright = _browser_or_skip()
    console_errors, page_errors, dialogs, requests = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((report / "report.html").as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.src.slice(0, 22), alt: e.alt, title: e.title,"
                " complete: e.complete, w: e.naturalWidth, h: e.naturalHeight,"
                " box: (r => [r.width, r.height])(e.getBoundingClientRect())}))")
            tables = page.eval_on_selector_all(
                "table", "els => els.map(t => ({csv: t.dataset.csv, rows: t.tBodies[0].rows.length}))")
            text = page.inner_text("body")
            title = page.title()
            scripts = page.eval_on_selector_all("script", "els => els.length")
        finally:
            browser.close()

    assert console_errors == [] and page_errors == [] and dialogs == []
    assert requests == [(report / "report.html").as_uri()]  # nothing fetched beside the page itself
    assert scripts == 0
    # the hostile names are shown as literal text
    assert title == f"blotquant: {rc.EXPERIMENT}"
    for name in [rc.EXPERIMENT, rc.GROUP_SCRIPT, rc.GROUP_AMP, rc.MEMBRANE, rc.TARGET, rc.TARGET_2, rc.LOADING,
                 rc.IMAGE, *rc.SAMPLES]:
        assert name in text, name
    # every overlay, both target figures and the fold-change plot: embedded, loaded, visible
    titles = sorted(i["title"] for i in images)
    assert titles == sorted(["overlay_m_1_a_blot_1.png", "figure_i_TNAP_i_p.png", "figure_i_TNAP_i_p_2.png",
                             "fold_change.png"])
    for img in images:
        assert img["src"] == "data:image/png;base64,", img["title"]
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img["title"]
        assert img["box"][0] > 0 and img["box"][1] > 0, img["title"]
    # every table is one of the CSVs, with its rows
    assert sorted(t["csv"] for t in tables) == sorted(CSVS)
    for t in tables:
        assert t["rows"] == len(pd.read_csv(report / t["csv"])) > 0, t["csv"]
