"""The newcomer's loop, end to end, with real output: score an archive, label its passages in the browser,
adapt the default model to the labels, evaluate. Writes the transcript to docs/annotate-loop.md, which
`scripts/update_readme.py` pastes into the README:

    python scripts/annotate_loop.py

The "archive" is four articles rebuilt from four held-out stories of labeled/corpus (the first 15
passages of each, one paragraph per passage): constructed text the default model never trained on, with
gold labels. The person at the keyboard is played by headless chromium (Debian's, through selenium): for
each passage the page shows, it presses the digits of that passage's gold frames (0 first, for none) and
Enter, exactly as a researcher would with their own judgement. Nothing else is simulated: the server,
the page, the labels file, training and evaluation are the real commands.
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STORIES = ["canada-saudi-2018", "norway-china-nobel-2010", "spain-morocco-ghali-ceuta-2021", "japan-korea-export-controls-2019"]
PASSAGES_PER_STORY, TO_LABEL = 15, 40
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


def framing(work: Path, *args: str) -> str:
    """Run a framing command in ``work`` and return its transcript (command, stdout and stderr)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", COLUMNS="110", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "framing.cli", *args], cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode not in (0, 3):
        raise SystemExit(f"framing {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    print(f"$ framing {shlex.join(args)}", flush=True)
    return f"$ framing {shlex.join(args)}\n{result.stdout}{result.stderr}"


def build_archive(folder: Path) -> dict[str, list[str]]:
    """Write the four articles; return the gold labels of every passage text."""
    sys.path.insert(0, str(ROOT))
    from framing.corpus import load_corpus

    corpus = load_corpus(ROOT / "labeled")
    folder.mkdir(parents=True)
    gold = {}
    for story in STORIES:
        rows = corpus[corpus["story"] == story].head(PASSAGES_PER_STORY)
        (folder / f"{story}.txt").write_text("\n\n".join(rows["text"]) + "\n", encoding="utf-8")
        gold.update({" ".join(t.split()): list(labels) for t, labels in zip(rows["text"], rows["labels"])})
    return gold


def label_in_the_browser(work: Path, passages: str, labels: str, gold: dict[str, list[str]]) -> str:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    args = ["annotate", passages, "--labels", labels, "--no-browser", "--port", "0", "--annotator", "gold-labels", "--order", "uncertain"]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "framing.cli", *args], cwd=work, env=env, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in server.stderr], daemon=True).start()
    shown_lines, url = [], None
    while url is None:
        line = lines.get(timeout=300)
        shown_lines.append(line)
        if line.startswith("annotate: http://127.0.0.1:"):
            url = line.split(" ", 1)[1].strip()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    profile = tempfile.mkdtemp(prefix="chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    wait = WebDriverWait(browser, 60)
    frames = None
    try:
        browser.get(url)
        previous = ""
        for _ in range(TO_LABEL):
            wait.until(lambda _: (browser.find_element(By.TAG_NAME, "body").get_attribute("data-passage-id") or "") not in ("", previous))
            previous = browser.find_element(By.TAG_NAME, "body").get_attribute("data-passage-id")
            frames = frames or [item.get_attribute("data-frame") for item in browser.find_elements(By.CSS_SELECTOR, "#frames li")]
            text = " ".join(browser.find_element(By.ID, "passage").text.split())
            body = browser.find_element(By.TAG_NAME, "body")
            if text not in gold:  # segmentation joined or split paragraphs: skip, as a person might
                body.send_keys("s")
                continue
            body.send_keys("0", *[str(frames.index(f) + 1) for f in gold[text]], Keys.ENTER)
        wait.until(lambda _: int(browser.find_element(By.ID, "progress").get_attribute("data-done") or 0) >= 1)
        progress_line = browser.find_element(By.ID, "progress").text
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
        server.send_signal(2)  # Ctrl-C, as at the keyboard
        server.wait(30)
    while not lines.empty():
        shown_lines.append(lines.get())
    printed = "".join(line for line in shown_lines if not line.startswith("annotate: http"))
    token_free = f"annotate: {url.split('?')[0]}?token=...\n"
    return f"$ framing {shlex.join(args)}\n{token_free}{printed}(in the page, after {TO_LABEL} passages: {progress_line})\n"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="framing-loop-"))
    gold = build_archive(work / "archive")
    (work / "models").symlink_to(ROOT / "models")  # read only: the adapted model goes to my-models/
    parts = [framing(work, "score", "archive/", "--passages", "p.csv", "-o", "mixes.csv")]
    parts.append(label_in_the_browser(work, "p.csv", "mine.jsonl", gold))
    parts.append(framing(work, "corpus", "check", "mine.jsonl"))
    parts.append(framing(work, "evaluate", "--data", "mine.jsonl", "--model", "models/DEFAULT"))
    parts.append(framing(work, "train", "--base", "models/DEFAULT", "--data", "mine.jsonl", "--models-dir", "my-models", "--no-promote", "--folds", "0"))
    parts.append(framing(work, "evaluate", "--data", "mine.jsonl", "--base", "models/DEFAULT"))
    rows = [json.loads(line) for line in (work / "mine.jsonl").read_text().splitlines()]
    transcript = "\n".join(p.rstrip("\n") + "\n" for p in parts)
    (ROOT / "docs" / "annotate-loop.md").write_text(
        "Command: `python scripts/annotate_loop.py` (its docstring says how the archive is built and who presses the keys).\n\n"
        f"```console\n{transcript}```\n\n{len(rows)} answers in `mine.jsonl`, annotator `{rows[0]['annotator']}`.\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
