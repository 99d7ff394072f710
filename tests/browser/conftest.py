"""Browser tests: real headless Chromium (Debian's ``chromium``) driven by Playwright, against a real
server subprocess. Without Chromium they skip on a user's machine and fail on CI (CI=true)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.server import Server, start_server

CHROMIUM = Path(os.environ.get("MINSHENG_CHROMIUM", "/usr/bin/chromium"))

if not CHROMIUM.exists():
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(f"CI=true but Chromium is missing at {CHROMIUM} (.ci/run installs it)")
    pytest.skip(f"Chromium is absent at {CHROMIUM}; install Debian's chromium", allow_module_level=True)

from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright  # noqa: E402

# CI machines are small and busy (the server's worker transcribes while a page waits): give
# assertions and actions more time than Playwright's 5 s before calling them failed.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the session."""
    with sync_playwright() as p:
        yield p


LaunchBrowser = Callable[..., Browser]


@pytest.fixture()
def launch_browser(playwright: Playwright) -> Iterator[LaunchBrowser]:
    """``launch_browser(*extra_args)`` starts a headless Chromium (closed after the test).

    Extra args are Chromium switches, e.g. a fake microphone:
    ``--use-fake-ui-for-media-stream --use-fake-device-for-media-stream
    --use-file-for-fake-audio-capture=<16-bit PCM wav>``.
    """
    browsers: list[Browser] = []

    def launch(*args: str) -> Browser:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture()
def page(launch_browser: LaunchBrowser) -> Page:
    """A fresh page in a plain headless Chromium."""
    return launch_browser().new_page()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, weights_cache: Path) -> Iterator[Server]:
    """A real ``minsheng serve`` (worker on, SQLite) shared by one test module."""
    server = start_server(tmp_path_factory.mktemp("live"), weights_cache)
    yield server
    server.stop()
