"""Headless Debian Chromium driven by Playwright's Python package (never `playwright install`), with a
recorder of every request a page makes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("POI_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


def missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is missing: run scripts/browser-install.sh (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    return None


@dataclass
class Recorder:
    """Every request, dialog and page error of a page."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def foreign(self, allowed_hosts: tuple[str, ...] = ("127.0.0.1",)) -> list[str]:
        """Requests to anything but the allowed hosts (data: URIs are not requests to a host)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.scheme == "file" and "file" in allowed_hosts:
                continue
            if parts.hostname not in allowed_hosts:
                out.append(url)
        return out


def attach(page: Any) -> Recorder:
    """Records the page's requests, dialogs (dismissed) and errors."""
    rec = Recorder()
    page.on("request", lambda r: rec.requests.append(r.url))
    page.on("pageerror", lambda e: rec.errors.append(str(e)))
    page.on("console", lambda m: rec.console.append(f"{m.type}: {m.text}"))

    def on_dialog(d: Any) -> None:
        rec.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    # Any alert() a payload might trigger is also caught in the page itself.
    page.add_init_script(
        "window.__xss = []; for (const f of ['alert', 'confirm', 'prompt']) {"
        " window[f] = (m) => { window.__xss.push(String(m)); }; }"
    )
    return rec


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium (Playwright sync API) for the duration of the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def screenshot(page: Any, name: str) -> Path:
    """Saves a screenshot under test-artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def wait_js(page: Any, expression: str, timeout_ms: int = 20_000) -> Any:
    """Polls a JS expression until it is truthy. (page.wait_for_function evaluates with eval(), which the
    pages' CSP rightly refuses; page.evaluate runs outside the page's CSP.)"""
    import time

    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


UNNAMED_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('button, a[href], input, select, textarea, [role=button], [tabindex="0"]')) {
    if (el.closest('[hidden]') || el.type === 'hidden' || !el.checkVisibility()) continue;
    const labelled = el.labels && Array.from(el.labels).some(l => l.innerText.trim());
    const name = (el.getAttribute('aria-label') || el.getAttribute('alt') || el.getAttribute('title') ||
                  el.innerText || '').trim();
    if (!labelled && !name && !el.getAttribute('aria-labelledby')) out.push(el.outerHTML.slice(0, 120));
  }
  return out;
}"""


def unnamed_controls(page: Any) -> list[str]:
    """Interactive elements without an accessible name (label, aria-label, alt, title or text)."""
    result: list[str] = page.evaluate(UNNAMED_JS)
    return result
