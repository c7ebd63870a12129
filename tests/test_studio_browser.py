"""The studio in a real browser: Debian's headless Chromium, driven by Selenium, signs in, writes a short script,
waits for the clip, plays it and approves it; a screenshot of each page goes to the test's output folder (and to
$ANNOUNCER_SCREENSHOTS, when set, for the README)."""
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from .test_studio_api import Studio

CHROMIUM, DRIVER = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")


class Served:
    """The studio app on a free loopback port, in a thread, served as `announcer serve` serves it."""

    def __init__(self, app, header_seconds: float = 10.0):
        import uvicorn

        from announcer.studio.server import timed_protocol

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    http=timed_protocol(header_seconds)))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def browser():
    if CHROMIUM is None or DRIVER is None:
        pytest.skip("no Chromium here: install Debian's chromium and chromium-driver (install.sh does)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e .[test])")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_sign_in_write_wait_play_and_approve_in_chromium(browser, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def across_reloads(seconds: float) -> WebDriverWait:
        """A wait that reads the page again when it reloads under it (the Jobs page reloads itself; a form posts)."""
        return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,))

    shots = [tmp_path / "screens"] + ([Path(os.environ["ANNOUNCER_SCREENSHOTS"])] if os.environ.get("ANNOUNCER_SCREENSHOTS") else [])
    for folder in shots:
        folder.mkdir(parents=True, exist_ok=True)

    def screenshot(name: str) -> None:
        for folder in shots:
            browser.save_screenshot(str(folder / f"studio-{name}.png"))

    studio = Studio(tmp_path / "home", send_webhooks=False)
    served = Served(studio.app)

    def sign_in(role: str) -> None:
        browser.find_element(By.ID, "token").send_keys(studio.tokens[role])
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith("/jobs"))

    try:
        browser.get(served.url + "/jobs")
        assert browser.current_url.endswith("/login")
        screenshot("sign-in")
        sign_in("editor")

        browser.get(served.url + "/clips/new")
        browser.find_element(By.ID, "script").send_keys("Good evening. The council agreed a new budget for the parks today.")
        browser.find_element(By.ID, "title").send_keys("Parks budget")
        Select(browser.find_element(By.ID, "presenter")).select_by_visible_text("anna")
        Select(browser.find_element(By.ID, "layout")).select_by_value("16:9")
        screenshot("new-clip")
        browser.find_element(By.ID, "submit").click()
        WebDriverWait(browser, 20).until(lambda b: "/jobs/1" in b.current_url)

        worker = threading.Thread(target=studio.render_queued)
        worker.start()
        browser.get(served.url + "/jobs")
        across_reloads(30).until(lambda b: "running" in b.find_element(By.ID, "job-1").text
                                         or "done" in b.find_element(By.ID, "job-1").text)
        screenshot("jobs")
        worker.join(timeout=600)
        across_reloads(30).until(lambda b: "done" in b.find_element(By.ID, "job-1").text)  # live, no reload asked

        browser.find_element(By.CSS_SELECTOR, "form.who button").click()  # the editor hands over to a reviewer
        WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith("/login"))
        sign_in("reviewer")
        browser.get(served.url + "/jobs/1")
        player = browser.find_element(By.ID, "player")
        browser.execute_script("arguments[0].play();", player)
        WebDriverWait(browser, 30).until(lambda b: b.execute_script("return arguments[0].currentTime;", player) > 0.5)
        assert browser.execute_script("return arguments[0].videoWidth;", player) == 1920
        assert browser.execute_script("return arguments[0].textTracks.length;", player) == 1
        browser.execute_script("arguments[0].pause(); arguments[0].currentTime = 1.0;", player)
        screenshot("review")

        browser.find_element(By.ID, "comment").send_keys("Ready for the nine o'clock.")
        browser.find_element(By.ID, "approve").click()
        across_reloads(20).until(lambda b: b.find_element(By.ID, "review-state").text == "approved")
        assert browser.find_elements(By.CSS_SELECTOR, "#downloads a")
        screenshot("approved")
        assert [r.decision for r in studio.store.reviews(1)] == ["approved"]
    finally:
        served.stop()
    assert sorted(p.name for p in shots[0].glob("*.png")) == [
        "studio-approved.png", "studio-jobs.png", "studio-new-clip.png", "studio-review.png", "studio-sign-in.png"]


def test_an_editor_sees_each_sentences_tone_and_changes_one_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    studio = Studio(tmp_path / "home", send_webhooks=False)
    served = Served(studio.app)

    def tones() -> list[tuple[str, str]]:
        rows = browser.find_elements(By.CSS_SELECTOR, "#tones tbody tr")
        return [(Select(row.find_element(By.TAG_NAME, "select")).first_selected_option.text,
                 row.find_elements(By.TAG_NAME, "td")[2].text) for row in rows]

    try:
        browser.get(served.url + "/login")
        browser.find_element(By.ID, "token").send_keys(studio.tokens["editor"])
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith("/jobs"))
        browser.get(served.url + "/clips/new")
        browser.find_element(By.ID, "script").send_keys(
            "Good evening.\n\nA man died in a crash on the ring road. Police are appealing for witnesses.\n\nNow the weather.")
        browser.find_element(By.ID, "check-tones").click()
        WebDriverWait(browser, 20).until(lambda b: len(tones()) == 4)
        assert [tone for tone, _ in tones()] == ["warm", "grave", "grave", "neutral"]
        assert tones()[2][1] == "its story"
        browser.save_screenshot(str(tmp_path / "tones-1280.png"))
        Select(browser.find_elements(By.CSS_SELECTOR, "#tones select")[2]).select_by_visible_text("neutral")
        WebDriverWait(browser, 20).until(lambda b: len(tones()) == 4 and tones()[2] == ("neutral", "a [tone] tag"))
        script = browser.find_element(By.ID, "script").get_attribute("value")
        assert "[tone neutral] Police are appealing for witnesses. [tone auto]" in " ".join(script.split())
        assert tones()[3] == ("neutral", "its story") and [tone for tone, _ in tones()][:2] == ["warm", "grave"]
        browser.set_window_size(390, 900)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        browser.save_screenshot(str(tmp_path / "tones-390.png"))
    finally:
        served.stop()
