"""`riskcards site --serve` with a broken card: a real MkDocs server on 127.0.0.1 answers every path with a
page listing the located problems (it used to refuse to start, or hold every request once a rebuild failed),
and the page comes back when the card is fixed. Checked over HTTP and in headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from proc_kit import stop
from sitekit import make_site_kb

pytestmark = pytest.mark.slow

CARD = "confident-wrong-dosage-advice"
CHROMIUM = "/usr/bin/chromium"
BOUND = 180  # seconds: an upper bound for a build to show up, not a timing assertion
PROBLEM_TITLE = "RiskCards: the knowledge base has problems"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    """Status and body; a request that hangs fails the test (urllib raises after the timeout)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")


def _until(url: str, want) -> tuple[int, str]:
    """Poll until the answer satisfies ``want`` (the server rebuilds in the background)."""
    deadline = time.monotonic() + BOUND
    last: tuple[int, str] | Exception | None = None
    while time.monotonic() < deadline:
        try:
            last = _get(url)
            if want(*last):
                return last
        except (urllib.error.URLError, ConnectionError) as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{url} never gave the expected answer; last: {str(last)[:2000]}")


def _break(path: Path, original: str, key: str) -> int:
    """Add an unknown top-level key to the card; returns its 1-based line."""
    lines = original.splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if ln.startswith("title:"))
    lines.insert(at, f"{key}: red\n")
    path.write_text("".join(lines), encoding="utf-8")
    return at + 1


@pytest.fixture
def served(tmp_path, request):
    root = make_site_kb(tmp_path / "kb", hostile=False)
    card = root / "cards" / f"{CARD}.yaml"
    original = card.read_text(encoding="utf-8")
    line = _break(card, original, "colour<b>bold</b>")
    port = _port()
    args = ["--dirty"] if getattr(request, "param", False) else []
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("RISKCARDS_ROOT", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "riskcards",
            "site",
            "--serve",
            "--dev-addr",
            f"127.0.0.1:{port}",
            "--root",
            str(root),
            *args,
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield {"root": root, "card": card, "original": original, "line": line, "proc": proc}
        assert proc.poll() is None, "the server stopped"
    finally:
        stop(proc)


def _url(s, path: str = "") -> str:
    port = s["proc"].args[s["proc"].args.index("--dev-addr") + 1]
    return f"http://{port}/riskcards/{path}"


def _problem_page(status: int, body: str) -> bool:
    return PROBLEM_TITLE in body


def _site_page(status: int, body: str) -> bool:
    return status == 200 and PROBLEM_TITLE not in body


@pytest.mark.parametrize("served", [False, True], ids=["clean", "dirty"], indirect=True)
def test_a_broken_card_is_served_as_its_located_problems_and_the_site_comes_back(served):
    s = served
    where = f"cards/{CARD}.yaml:{s['line']}:1: "
    status, body = _until(_url(s), _problem_page)
    assert status == 200 and where in body and "colour" in body
    assert "<b>bold</b>" not in body and "&lt;b&gt;bold&lt;/b&gt;" in body  # the echoed key is escaped
    # Every path answers at once with the same problems (MkDocs serves 404.html for pages that do not exist).
    status, body = _get(_url(s, f"cards/{CARD}/"))
    assert status == 404 and where in body
    # Fixed: the site is back, card page included.
    s["card"].write_text(s["original"], encoding="utf-8")
    status, body = _until(_url(s, f"cards/{CARD}/"), _site_page)
    assert "Confident but wrong medication dosage advice" in body
    # Broken again while serving (a failing rebuild used to hold every request forever): the problems, at once.
    line = _break(s["card"], s["original"], "flavour")
    _until(_url(s), lambda st, b: f"cards/{CARD}.yaml:{line}:1: " in b and "flavour" in b)
    status, body = _get(_url(s, f"cards/{CARD}/"))
    assert status == 404 and "flavour" in body and "Confident but wrong" not in body  # no stale page served


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"headless Chromium is not installed at {CHROMIUM}")
def test_the_browser_shows_the_problems_and_reloads_when_the_card_is_fixed(served):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    s = served
    _until(_url(s), _problem_page)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(_url(s), timeout=BOUND * 1000)
            assert page.title() == PROBLEM_TITLE
            text = page.inner_text("#riskcards-problems")
            assert f"cards/{CARD}.yaml:{s['line']}:1: " in text and "colour<b>bold</b>" in text  # shown as text
            # Fixed: the problem page reloads itself into the site, with nobody pressing reload.
            s["card"].write_text(s["original"], encoding="utf-8")
            page.wait_for_function(f"document.title !== {PROBLEM_TITLE!r}", timeout=BOUND * 1000)
            page.wait_for_load_state()
            assert "RiskCards" in page.title() and page.locator("#riskcards-problems").count() == 0
            # Broken again: the site page (MkDocs' own live reload) turns into the problem page.
            _break(s["card"], s["original"], "flavour")
            page.wait_for_function(f"document.title === {PROBLEM_TITLE!r}", timeout=BOUND * 1000)
            assert "flavour" in page.inner_text("#riskcards-problems")
        finally:
            browser.close()
