"""framing annotate end to end in a real headless browser: Debian's chromium driven by selenium through
Debian's chromedriver (named explicitly, so selenium-manager downloads nothing).

Open the page, label three passages with the keyboard, undo one, reload, resume, check the file; then
restart the server and check that no answered passage is asked again.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Debian's chromium and chromium-driver are not installed (make install installs them)")

TEXTS = [
    "The foreign ministry said the expulsion of the ambassador was a response to repeated interference in the country's internal affairs and courts.",
    "Families waiting at the consulate described days without news of relatives detained after the protests, and lawyers asked for access to them.",
    "Exporters warned that the suspension of the trade agreement would cost the fruit sector millions and put thousands of seasonal jobs at risk.",
    "Leaders of the left-wing governments in the region closed ranks, calling the removal of the president a coup by conservative elites.",
    "The delegation arrived on Tuesday morning and met officials for three hours before returning to the capital in the evening.",
    "Officials <b>insisted</b> on <img src=x onerror=\"document.title='pwned'\"> the court's jurisdiction over the case and the authority of its prosecutors.",
]


@pytest.fixture
def passages_table(tmp_path):
    import pandas as pd

    path = tmp_path / "passages.csv"
    pd.DataFrame({"article_id": ["a"] * 3 + ["b"] * 3, "passage_index": [0, 1, 2, 0, 1, 2], "outlet": ["Outlet <A>"] * 3 + ["Outlet B"] * 3,
                  "title": ["<script>document.title='pwned'</script>Talks collapse"] * 3 + ["Trade row"] * 3, "text": TEXTS}).to_csv(path, index=False)
    return path


class Server:
    """`framing annotate ... --no-browser --port 0` in a subprocess; ``url`` is the one it prints."""

    def __init__(self, source, labels):
        env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen([sys.executable, "-m", "framing.cli", "annotate", str(source), "--labels", str(labels), "--no-browser",
                                         "--port", "0", "--annotator", "browser-test", "--order", "uncertain"],
                                        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stderr], daemon=True).start()
        self.url = None
        while self.url is None:
            line = lines.get(timeout=60)
            if line.startswith("annotate: http://127.0.0.1:"):
                self.url = line.split(" ", 1)[1].strip()

    def stop(self, kill: bool = False) -> int:
        self.process.kill() if kill else self.process.terminate()
        return self.process.wait(20)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_label_undo_reload_resume_in_a_real_browser(browser, passages_table, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    labels = tmp_path / "labels.jsonl"
    wait = WebDriverWait(browser, 20)

    def shown() -> str:
        return browser.find_element(By.TAG_NAME, "body").get_attribute("data-passage-id") or ""

    def done() -> int:
        return int(browser.find_element(By.ID, "progress").get_attribute("data-done") or -1)

    def press(*keys: str) -> None:
        browser.find_element(By.TAG_NAME, "body").send_keys(*keys)

    seen: set[str] = set()

    def next_passage(previous: str) -> str:
        """Wait for the next passage and check that its text and title are shown as text: markup in the data is never rendered."""
        wait.until(lambda _: shown() not in ("", previous))
        article, index = shown().split(":")
        assert browser.find_element(By.ID, "passage").text == TEXTS[3 * (article == "b") + int(index)]
        assert browser.find_element(By.ID, "title").text == ("<script>document.title='pwned'</script>Talks collapse" if article == "a" else "Trade row")
        seen.add(shown())
        return shown()

    def checked() -> list[str]:
        return [item.get_attribute("data-frame") for item in browser.find_elements(By.CSS_SELECTOR, "#frames li") if item.get_attribute("aria-checked") == "true"]

    server = Server(passages_table, labels)
    try:
        browser.get(server.url)
        first = next_passage("")
        assert "sovereignty" in browser.find_element(By.ID, "codebook").text
        press("1")
        wait.until(lambda _: checked() == ["sovereignty"])
        press(Keys.ENTER)
        second = next_passage(first)
        press("2", "0")  # a frame, then 0: none
        wait.until(lambda _: checked() == [])
        press(Keys.ENTER)
        third = next_passage(second)
        press("2", "4")
        wait.until(lambda _: checked() == ["humanitarian", "economic"])
        press(Keys.ENTER)
        fourth = next_passage(third)
        wait.until(lambda _: done() == 3)
        assert len({first, second, third, fourth}) == 4
        assert "done 3" in browser.find_element(By.ID, "progress").text and "left 3" in browser.find_element(By.ID, "progress").text

        press("u")  # undo the third answer: its passage comes back and leaves the file
        wait.until(lambda _: shown() == third and done() == 2)
        rows = [json.loads(line) for line in labels.read_text().splitlines()]
        assert [(r["id"], r["labels"]) for r in rows] == [(first, ["sovereignty"]), (second, [])]

        press("?")
        wait.until(lambda _: browser.find_element(By.ID, "help").is_displayed())
        press(Keys.ESCAPE)
        wait.until(lambda _: not browser.find_element(By.ID, "help").is_displayed())

        browser.refresh()  # the page resumes on the passage that was on screen
        wait.until(lambda _: shown() == third and done() == 2)
        press("3", Keys.ENTER)
        wait.until(lambda _: done() == 3)

        # Markup in the data is shown as text, never run or rendered.
        assert browser.title == "framing annotate" and not browser.find_elements(By.CSS_SELECTOR, "#work img, #work b, #work script")
    finally:
        server.stop(kill=True)  # SIGKILL: nothing is flushed at exit, every answer must already be on disk

    rows = [json.loads(line) for line in labels.read_text().splitlines()]
    assert [(r["id"], r["labels"]) for r in rows] == [(first, ["sovereignty"]), (second, []), (third, ["ideological-bloc"])]
    assert all(r["annotator"] == "browser-test" and r["seconds"] > 0 and r["selected_by"].startswith("uncertain: ") for r in rows)
    assert all(r["text"] in TEXTS and r["story"] in ("a", "b") for r in rows)
    from framing.codebook import load_codebook
    from framing.corpus import check_corpus, load_corpus

    assert check_corpus(load_corpus(labels), load_codebook(), min_words=1, strict_schema=False) == []

    restarted = Server(passages_table, labels)  # a new server, port and token: it resumes from the file
    try:
        browser.get(restarted.url)
        current = next_passage("")
        wait.until(lambda _: done() == 3)
        for _ in range(2):  # skip through the three passages left: none of them was answered before
            assert current not in {first, second, third}
            press("s")
            current = next_passage(current)
        assert current not in {first, second, third}
        press("s")
        wait.until(lambda _: browser.find_element(By.ID, "done").is_displayed() and shown() == "")
        assert "skipped 3" in browser.find_element(By.ID, "progress").text and browser.title == "framing annotate"
    finally:
        assert restarted.stop() == 0  # SIGTERM stops the server cleanly
    assert len(seen) == 6  # every passage, the one with markup included, was shown as plain text
    assert len(labels.read_text().splitlines()) == 3  # skips are not answers
