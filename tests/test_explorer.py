"""The static explorer: packing runs, deterministic self-contained HTML, and a real browser
changing the chart when a control changes (headless Chromium, network off)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path

import pytest
from matplotlib.colors import to_rgb

import grok_lib
from grok_lib import Store, TrainConfig
from grok_lib.presentation import style
from grok_lib.presentation.explorer.page import downsample, explorer_html, pack, sweep_configs, write_html
from grok_lib.training.bookkeeping import log_steps
from grok_lib.training.record import Run


def fake_run(op: str, frac: float, wd: float, merge: str = "sum", steps: int = 2000) -> Run:
    """A run whose curves depend on its settings: it memorises at once, and generalises
    later the smaller its train fraction and weight decay (never without weight decay)."""
    cfg = TrainConfig(op=op, p=31, train_frac=frac, weight_decay=wd, merge=merge, steps=steps, log_every=50)
    grok_at = None if wd == 0 else 50 / (frac * wd) * (3 if op == "div" else 1)
    hist: dict[str, list[float]] = {k: [] for k in ("step", "train_acc", "val_acc", "train_loss", "val_loss")}
    for s in log_steps(steps, 50):
        hist["step"].append(s)
        hist["train_acc"].append(min(1.0, s / 40))
        val = 0.05 if grok_at is None else 0.05 + 0.95 / (1 + math.exp(-(s - grok_at) / (0.1 * grok_at)))
        hist["val_acc"].append(val)
        hist["train_loss"].append(1 / (1 + s))
        hist["val_loss"].append(1.0)
    return Run(cfg, hist, {"status": "budget"})


@pytest.fixture(scope="module")
def runs() -> list[Run]:
    return [fake_run(op, f, w, merge) for op, merge in [("add", "sum"), ("div", "concat"), ("sub", "concat")]
            for f in (0.2, 0.4, 0.6) for w in (0.0, 0.3, 1.0)]


def test_downsample_keeps_ends_and_thins_log_axis():
    steps = log_steps(2000, 10)
    keep = downsample(steps, 0.05)
    assert keep[0] == 0 and keep[-1] == len(steps) - 1
    assert len(keep) < len(steps) / 2
    kept = [max(steps[i], 1) for i in keep]
    assert all(math.log10(b) - math.log10(a) >= 0.05 - 1e-12 for a, b in zip(kept[:-2], kept[1:-1], strict=True))


def test_pack_layout(runs):
    d = pack(runs)
    assert [o["name"] for o in d["ops"]] == ["add (sum)", "div (concat)", "sub (concat)"]
    assert d["fracs"] == [0.2, 0.4, 0.6] and d["wds"] == [0.0, 0.3, 1.0]
    assert len(d["cells"]) == 3 * 3 * 3
    c = d["cells"][(1 * 3 + 2) * 3 + 2]  # div, 60%, wd 1
    assert c["ph"] in ("grokking", "comprehension") and c["g"] is not None
    assert d["cells"][0]["g"] is None and d["cells"][0]["ph"] == "memorisation"  # wd 0 never generalises
    with pytest.raises(ValueError, match="one run per cell"):
        pack(runs + runs[:1])


def test_html_is_deterministic_and_self_contained(runs):
    a, b = explorer_html(runs), explorer_html(list(runs))
    assert a == b
    assert "<script src" not in a and "http://" not in a.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in a
    data = re.search(r'<script type="application/json" class="gx-data">(.*?)</script>', a, re.S).group(1)
    assert json.loads(data.replace("<\\/", "</"))["p"] == 31


def _asset(name: str) -> str:
    return (Path(grok_lib.__file__).parent / "presentation" / "explorer" / name).read_text(encoding="utf-8")


def test_page_takes_its_colours_from_the_style_module(runs):
    page = explorer_html(runs)
    palette = json.loads(re.search(r'<script type="application/json" class="gx-palette">(.*?)</script>', page).group(1))
    assert palette == style.page_palette()
    assert palette["phases"] == style.PHASE_COLORS and list(palette["phases"]) == list(style.PHASE_COLORS)
    assert (palette["train"], palette["val"]) == (style.TRAIN, style.VAL)
    css_vars = re.search(r"<style>\.gx\{(.*?)\}", page).group(1)
    assert f"--gx-muted:{style.PAGE_COLORS['muted']}" in css_vars.split(";")


@pytest.mark.parametrize("name", ["explorer.js", "explorer.css"])
def test_script_and_styles_type_no_colour(name):
    """Colours live in style.py only: the shipped files name them through the palette."""
    text = _asset(name)
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(", text)
    assert not re.findall(r"\b(white|black|red|blue|gr[ae]y)\b", text)


def test_every_colour_the_files_use_is_in_the_palette(runs):
    palette = style.page_palette()
    used_by_js = set(re.findall(r"\bC\.(\w+)", _asset("explorer.js")))
    assert used_by_js and used_by_js <= set(palette), used_by_js - set(palette)
    page = explorer_html(runs)
    used_by_css = set(re.findall(r"var\((--gx-[\w-]+)\)", _asset("explorer.css")))
    defined = set(re.findall(r"(--gx-[\w-]+):", page))
    assert used_by_css and used_by_css <= defined, used_by_css - defined
    assert "//" not in re.search(r"<script>(.*?)</script>", page, re.S).group(1).replace("http://", "")


def test_stored_sweep_is_complete():
    """Every run of the ``explorer_sweep`` experiment is in the results store (the book reads them)."""
    store = Store(Path(grok_lib.__file__).resolve().parent.parent / "results")  # the checkout's, not a test's
    configs = sweep_configs()
    if not any(store.has(c) for c in configs):
        pytest.skip(f"no explorer runs stored under {store.root}")
    missing = [c for c in configs if not store.has(c)]
    assert not missing, f"{len(missing)} explorer runs missing: python -m grok_lib regenerate explorer_sweep"
    assert len({(c.op, c.merge) for c in configs}) >= 6
    assert len({c.train_frac for c in configs}) >= 5 and len({c.weight_decay for c in configs}) >= 5


# ---- a real browser --------------------------------------------------------------------------

def _browser():
    """Headless Chromium through chromedriver, with every network request refused."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    # locally a missing browser skips the test; in CI (CI=true) it is a failure, so the
    # explorer is always checked in a real browser before anything lands
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    if not chromium or not driver_path:
        missing("headless browser test needs Debian's chromium and chromium-driver "
                "(apt-get install -y chromium chromium-driver)")
    try:
        from selenium import webdriver
    except ImportError:
        missing("browser test needs the selenium package (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=900,700", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--disable-background-networking", "--no-first-run"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=opts)


def test_controls_change_the_chart_in_a_browser(runs, tmp_path):
    page = write_html(runs, tmp_path / "explorer.html")
    browser = _browser()
    try:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        browser.get(page.as_uri())
        root = browser.find_element(By.CSS_SELECTOR, ".gx")
        errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors

        def state():
            val = root.find_element(By.CSS_SELECTOR, "svg.chart path.val").get_attribute("d")
            return root.get_attribute("data-selected"), val, root.find_element(By.CSS_SELECTOR, ".note").text

        start = state()
        assert start[0] == "add (sum)|0.6|1" and start[1].startswith("M")
        assert "generalised at step" in start[2]
        # the colours arrive from the palette: the script's through JSON, the styles' through CSS properties
        assert root.find_element(By.CSS_SELECTOR, "svg.chart path.train").get_attribute("stroke") == style.TRAIN
        assert root.find_element(By.CSS_SELECTOR, "svg.chart path.val").get_attribute("stroke") == style.VAL
        fills = {c.get_attribute("fill") for c in root.find_elements(By.CSS_SELECTOR, "svg.grid g.cellr rect")}
        assert fills and fills <= set(style.PHASE_COLORS.values())
        muted = ", ".join(str(round(255 * x)) for x in to_rgb(style.PAGE_COLORS["muted"]))
        assert root.find_element(By.CSS_SELECTOR, ".caption").value_of_css_property("color") == f"rgba({muted}, 1)"
        png0 = root.screenshot_as_png

        # weight decay slider to 0: the validation curve changes and the note says it never generalised
        wd = root.find_element(By.CSS_SELECTOR, "input.wd")
        browser.execute_script("arguments[0].value=0;arguments[0].dispatchEvent(new Event('input'))", wd)
        no_wd = state()
        assert no_wd[0] == "add (sum)|0.6|0" and no_wd[1] != start[1]
        assert "never generalised" in no_wd[2]
        assert root.screenshot_as_png != png0

        # operation dropdown: the selection and curve follow
        Select(root.find_element(By.CSS_SELECTOR, "select.op")).select_by_index(1)
        div = state()
        assert div[0] == "div (concat)|0.6|0"

        # clicking a grid cell selects that run
        cells = root.find_elements(By.CSS_SELECTOR, "svg.grid g.cellr")
        assert len(cells) == 9
        cells[1].click()  # drawn weight decay by weight decay (smallest first), fractions within
        assert state()[0] == "div (concat)|0.4|0"
        assert root.find_element(By.CSS_SELECTOR, "input.frac").get_attribute("value") == "1"

        # Keep pins the curve; Clear removes it
        root.find_element(By.CSS_SELECTOR, "button.pin").click()
        assert len(root.find_elements(By.CSS_SELECTOR, "svg.chart path.pinned")) == 1
        root.find_element(By.CSS_SELECTOR, "button.clear").click()
        assert not root.find_elements(By.CSS_SELECTOR, "svg.chart path.pinned")
    finally:
        browser.quit()
