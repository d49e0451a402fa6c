"""Real-browser helpers for the dashboard, and the script that refreshes the screenshots in docs/.

``python tests/screenshots.py [--out docs]`` starts ``streamlit run streamlit_app.py`` on a free
local port, drives Debian's Chromium (``/usr/bin/chromium``) headless through Playwright and saves
one PNG per page: ``analyse.png``, ``tune.png``, ``segments.png``, ``model.png``, and ``noise.png`` (the
noisy example's traces, its unreadable stretches shaded).
``tests/test_browser.py`` uses the same helpers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PAGES = {"analyse": "", "tune": "tune", "segments": "segments", "model": "model"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _server(module_args, health: str, *, log_path: str = os.devnull, timeout: float = 90.0):
    """Run ``python -m <module_args(port)>`` on a free port until ``health`` answers 200; yields its base URL."""
    port = free_port()
    args = module_args(port)
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{args[0]} exited with code {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}{health}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not become healthy in time")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def streamlit_server(*, timeout: float = 90.0):
    """Run ``streamlit run streamlit_app.py`` on a free port; yields its base URL."""
    return _server(lambda port: ["streamlit", "run", "streamlit_app.py", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true",
                                 "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                   "/_stcore/health", log_path=os.environ.get("STREAMLIT_LOG", os.devnull), timeout=timeout)


def api_server(*, timeout: float = 90.0):
    """Run the REST API (``uvicorn api.app:app``) on a free port; yields its base URL."""
    return _server(lambda port: ["uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)], "/health",
                   timeout=timeout)


@contextlib.contextmanager
def chromium_page(*, width: int = 1400, height: int = 1000):
    """A Playwright page in Debian's Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def wait_idle(page, *, timeout: float = 90.0, settle: float = 0.5) -> None:
    """Wait until Streamlit has finished running the script and stayed idle for ``settle`` seconds."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        idle = page.evaluate(
            "() => document.querySelector(\"[data-testid='stApp']\")?.getAttribute('data-test-script-state')"
            " === 'notRunning' && !document.querySelector(\"[data-testid='stSpinner']\")"
        )
        now = time.monotonic()
        if not idle:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= settle:
            return
        time.sleep(0.05)
    raise TimeoutError(f"the app was still running after {timeout:.0f} s")


def browser_idle(page, *, timeout: float = 30.0) -> float:
    """Wait until the browser has finished drawing (an idle callback runs); returns the time then (s)."""
    return page.evaluate("(ms) => new Promise(r => requestIdleCallback(() => r(Date.now() / 1000), {timeout: ms}))",
                         timeout * 1000)


def open_page(page, url: str, name: str) -> None:
    page.goto(f"{url}/{PAGES[name]}")
    wait_idle(page)
    browser_idle(page)


def full_screenshot(page, path) -> None:
    """Screenshot of the whole page: Streamlit scrolls inside its main block, so grow the viewport to fit."""
    width = page.viewport_size["width"]
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stMainBlockContainer', 'stSidebarContent'].map("
        "id => document.querySelector(`[data-testid='${id}']`)?.scrollHeight || 0))"
    )
    page.set_viewport_size({"width": width, "height": int(min(max(height, 600), 12000))})
    page.wait_for_timeout(500)
    wait_idle(page)  # a resize can make charts report a (empty) selection, which reruns the page
    browser_idle(page)
    page.wait_for_timeout(800)  # Plotly redraws at the new size
    page.screenshot(path=str(path), full_page=True)


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox keyed ``key``."""
    wait_idle(page)
    for attempt in range(3):  # a rerun of the page while the list opens closes it again
        page.locator(f".st-key-{key} input[role='combobox']").click()
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.wait_for(timeout=10_000)
            choice.click()
            return
        except Exception:  # noqa: BLE001 - retried, then raised
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_idle(page)


def noise_screenshot(page, url: str, path) -> None:
    """The analyse page on the noisy example, scrolled to the traces: the unreadable stretches shaded."""
    page.set_viewport_size({"width": 1400, "height": 1250})
    open_page(page, url, "analyse")
    page.get_by_text("Recording, reference annotations and settings").click()
    choose(page, "analyse_example", "118: a burst of muscle noise")
    wait_idle(page)
    browser_idle(page)
    page.locator("input[aria-label='Go to time']").fill("55")
    page.keyboard.press("Enter")
    wait_idle(page)
    browser_idle(page)
    page.locator(".st-key-trace_overview").scroll_into_view_if_needed()
    page.mouse.wheel(0, 150)
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), full_page=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, chromium_page(width=1400, height=1100) as page:
        for name in PAGES:
            open_page(page, url, name)
            path = args.out / f"{name}.png"
            full_screenshot(page, path)
            page.set_viewport_size({"width": 1400, "height": 1100})
            print(f"wrote {path}")
        noise_screenshot(page, url, args.out / "noise.png")
        print(f"wrote {args.out / 'noise.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
