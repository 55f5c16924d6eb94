"""The live page end to end: the server in a thread of this process, Debian's headless Chromium driven by Selenium.

Checks read what the page shows and exposes (``window.lab``: the frames it drew, the number of points it drew,
the values in the DOM), never pixels. Skipped, with the reason, where Chromium, its driver, Selenium or the
``lab`` extra is missing (``.ci/run`` installs them). ``GANKIT_LAB_SCREENSHOTS=DIR`` also keeps the layout
test's screenshots in DIR (docs/images/lab-live-*.png come from it).
"""

import os
import shutil
import time
from pathlib import Path

import pytest
import torch

from gankit.cli import main
from gankit.lab.live.session import LiveSession

CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
    pytest.skip("no Chromium and chromedriver (Debian: apt-get install chromium chromium-driver)", allow_module_level=True)
pytest.importorskip("fastapi", reason="the lab extra is not installed (pip install 'gankit[lab]')")
pytest.importorskip("uvicorn", reason="the lab extra is not installed (pip install 'gankit[lab]')")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
from selenium.webdriver.chrome.service import Service  # noqa: E402

from gankit.lab.live.server import Background  # noqa: E402

SIZES = {"laptop": (1366, 768, 1, False), "phone": (390, 844, 2, True)}  # width, height, pixel ratio, mobile


@pytest.fixture(scope="module")
def server():
    torch.set_num_threads(1)
    with Background(steps_per_frame=25) as bg:
        yield bg


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    except Exception as e:  # a browser that will not start here is an environment problem, not the page's
        pytest.skip(f"headless Chromium did not start: {str(e).splitlines()[0]}")
    resize(driver, "laptop")
    yield driver
    driver.quit()


def resize(driver, size: str) -> None:
    """The viewport of a 1366x768 laptop or a 390x844 phone exactly (not the window around it)."""
    w, h, ratio, mobile = SIZES[size]
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": w, "height": h, "deviceScaleFactor": ratio, "mobile": mobile}
    )


def lab(driver, expr: str):
    return driver.execute_script(f"return (() => {{ const lab = window.lab; return {expr}; }})()")


def wait_for(driver, expr: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = lab(driver, expr)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expr}; frame: {lab(driver, 'lab.frame && lab.frame.step')}")


def set_field(driver, name: str, value) -> None:
    """Type a value into a settings field and leave it, as a user does (the page sends it on change)."""
    driver.execute_script(
        "const el = document.querySelector(`[name='${arguments[0]}']`); el.value = arguments[1];"
        "el.dispatchEvent(new Event('change', {bubbles: true}));",
        name,
        str(value),
    )


def text(driver, element_id: str) -> str:
    return driver.find_element("id", element_id).text


def fake_points(driver) -> torch.Tensor:
    return torch.tensor(lab(driver, "lab.frame.fake")).reshape(-1, 2)


@pytest.fixture(scope="module")
def page(server, browser):
    browser.get(server.url)
    wait_for(browser, "lab.connected && lab.frame && lab.drawn.fake > 0")
    return browser


def test_a_run_on_the_ring_learns(page):
    set_field(page, "toy", "ring")
    for name in ("g_lr", "d_lr"):
        set_field(page, name, 0.002)
    wait_for(page, "lab.frame.params.g_lr === 0.002 && lab.frame.params.d_lr === 0.002")
    assert lab(page, "lab.frame.step") == 0 and text(page, "m-modes").endswith("/ 8")
    start = fake_points(page)
    modes_at_start = lab(page, "lab.frame.metrics.modes")
    page.find_element("id", "play").click()
    wait_for(page, "lab.frame.running && lab.frame.step >= 100")
    assert text(page, "play") == "Pause"
    moved = (fake_points(page) - start).norm(dim=1).mean()
    assert moved > 0.05  # the same z, so the same points: G moved them
    wait_for(page, f"lab.frame.metrics.modes >= {modes_at_start + 2}", timeout=40)
    # What the page drew and shows is what it was sent.
    assert lab(page, "lab.drawn.fake") == 500 == lab(page, "lab.drawn.real")
    assert lab(page, "lab.drawn.arrows") > 100
    assert page.find_element("id", "view").get_attribute("data-fake") == "500"
    modes = lab(page, "lab.frame.metrics.modes")
    assert text(page, "m-modes").split(" / ")[0] in (str(int(modes)), str(int(modes) + 1), str(int(modes) - 1))
    assert lab(page, "lab.drawn.curve") > 5


def test_loss_change_and_a_bad_learning_rate(page):
    page.find_element("id", "play").click() if not lab(page, "lab.frame.running") else None
    wait_for(page, "lab.frame.running && lab.curve.length > 10")
    set_field(page, "loss", "lsgan")
    wait_for(page, "lab.frame.params.loss === 'lsgan'")
    changed_at = wait_for(page, "lab.losses.length === 2 && lab.losses[1][0]")
    wait_for(page, f"lab.curve.filter(p => p[0] > {changed_at}).length >= 10")
    assert text(page, "m-loss") == "lsgan"
    before = lab(page, f"lab.curve.filter(p => p[0] <= {changed_at}).slice(-10).map(p => p[1])")
    after = lab(page, f"lab.curve.filter(p => p[0] > {changed_at}).slice(-10).map(p => p[1])")
    assert sum(after) / 10 < 0.6 < sum(before) / 10  # D's loss: BCE near 2 log 2, least squares far below

    step = lab(page, "lab.frame.step")
    set_field(page, "g_lr", -0.001)
    wait_for(page, "lab.error !== null")
    error = page.find_element("id", "error")
    assert error.is_displayed() and "optim.g_lr" in error.text and "greater than 0" in error.text
    assert "invalid" in page.find_element("name", "g_lr").get_attribute("class")
    wait_for(page, f"lab.frame.step > {step + 50}")  # the run goes on, as it was
    assert lab(page, "lab.frame.params.g_lr") == 0.002 and lab(page, "lab.frame.params.loss") == "lsgan"
    set_field(page, "g_lr", 0.002)  # a good value clears the error
    wait_for(page, "lab.error === null")
    assert not page.find_element("id", "error").is_displayed()


def test_save_and_reopen_the_same_run(page, tmp_path):
    if lab(page, "lab.frame.running"):
        page.find_element("id", "play").click()
    paused_at = wait_for(page, "!lab.frame.running && lab.frame.step")
    page.find_element("id", "step").click()  # one step while paused: the page steps one at a time
    wait_for(page, f"lab.frame.step === {paused_at + 1}")
    run = tmp_path / "live-run"
    page.find_element("id", "run-dir").clear()
    page.find_element("id", "run-dir").send_keys(str(run))
    page.find_element("id", "save").click()
    saved_step = wait_for(page, "(lab.replies.find(r => r.cmd === 'save') || {}).step")
    assert saved_step == paused_at + 1 and (run / "config.yaml").is_file() and (run / "checkpoints" / "latest").is_file()
    saved_fake = lab(page, "lab.frame.fake")
    for _ in range(3):  # move on, so that reopening has something to undo
        page.find_element("id", "step").click()
    wait_for(page, f"lab.frame.step >= {saved_step + 3}")
    page.find_element("id", "load").click()
    wait_for(page, f"lab.replies.some(r => r.cmd === 'load') && lab.frame.step === {saved_step}")
    assert lab(page, "lab.frame.fake") == saved_fake and lab(page, "lab.frame.params.loss") == "lsgan"
    assert text(page, "m-step") == str(saved_step)
    # The run directory resumes in `gankit train` as any other.
    assert main(["train", "--resume", str(run), "--steps", str(saved_step + 10), "--no-progress"]) == 0
    assert LiveSession.load(run).step == saved_step + 10


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_layout_reads_at_laptop_and_phone_sizes(page, size, tmp_path):
    resize(page, size)
    try:
        page.refresh()
        wait_for(page, "lab.frame && lab.drawn.fake > 0 && lab.drawn.curve > 0")
        width = SIZES[size][0]
        assert lab(page, "document.documentElement.scrollWidth") <= width  # nothing wider than the screen
        view = page.find_element("id", "view").rect
        assert view["x"] >= 0 and view["x"] + view["width"] <= width and view["width"] >= 0.85 * min(width, 400)
        assert view["y"] + view["height"] <= SIZES[size][1]  # the samples fit on the first screen
        for element_id in ("play", "step", "m-modes", "m-loss"):
            assert page.find_element("id", element_id).is_displayed()
        out = Path(os.environ.get("GANKIT_LAB_SCREENSHOTS", tmp_path))
        out.mkdir(parents=True, exist_ok=True)
        assert page.save_screenshot(str(out / f"lab-live-{size}.png"))
    finally:
        resize(page, "laptop")
