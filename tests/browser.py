"""A real browser for the suite: Debian's Chromium driven by Playwright from PyPI (its own
browser download cannot work offline). Installed with apt-get when the suite runs as root;
elsewhere the browser tests are skipped with what to install. A failing test leaves a
screenshot under .data/browser-failures/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from oneenglish.stack.errors import StackError
from oneenglish.stack.packages import apt_install

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / ".data" / "browser-failures"
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def chromium_binary() -> str:
    for candidate in CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    try:
        apt_install(
            "chromium", "Chromium (for the browser tests)", "or run pytest -m 'not browser'"
        )
    except StackError as exc:
        pytest.skip(str(exc))
    return next((c for c in CANDIDATES if Path(c).exists()), "chromium")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    # The async API: the suite's tests and fixtures share one event loop.
    binary = chromium_binary()
    async with async_playwright() as playwright:
        # --no-sandbox: Chromium refuses to run its sandbox as root (the CI runs as root).
        launched = await playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 1600})
    opened = await context.new_page()
    try:
        yield opened
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await opened.screenshot(
                path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True
            )
        await context.close()
