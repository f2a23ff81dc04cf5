"""A real browser for the console's tests: Debian's headless Chromium, driven through its chromedriver.

`make test` installs both (`apt-get install chromium chromium-driver`, as root); elsewhere the tests skip
with that hint (and fail under CI=true, where nothing may skip). A browser that a package downloads at
install time is never used: only the system's.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.components import missing

INSTALL_HINT = "apt-get install chromium chromium-driver (make test installs them when run as root)"


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@contextmanager
def chromium(profile: Path, width: int = 1440, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium (a Selenium WebDriver) with a fresh profile, that reaches nothing but loopback."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed; pip install selenium (make test installs it)")
    binary = _find("chromium", "chromium-browser")
    driver_path = _find("chromedriver")
    if binary is None or driver_path is None:
        missing(f"Chromium and its chromedriver are not installed; {INSTALL_HINT}")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _png_pixels(data: bytes) -> bytes:
    """The decompressed image data of a PNG (filter bytes included): enough to tell a blank picture."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, chunks = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            chunks.append(data[at + 8 : at + 8 + length])
        at += 12 + length
    return zlib.decompress(b"".join(chunks))


def screenshot(driver: Any, name: str, folder: Path) -> Path:
    """Save the page as `<folder>/<name>.png` (and under $OPENCOMPREHEND_SCREENSHOTS when set, for the docs),
    and check the picture is not blank: a page that drew nothing is one colour."""
    data = driver.get_screenshot_as_png()
    pixels = _png_pixels(data)
    assert len(set(pixels)) > 24, f"the screenshot {name} is blank"
    targets = [folder]
    if os.environ.get("OPENCOMPREHEND_SCREENSHOTS"):
        targets.append(Path(os.environ["OPENCOMPREHEND_SCREENSHOTS"]))
    for target in targets:
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.png").write_bytes(data)
    return folder / f"{name}.png"
