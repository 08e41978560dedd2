"""Open a report page in headless Chromium (Debian's `chromium`, installed by
scripts/install-chromium) and read back the screenshot's pixels; tests skip without it."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

WIDTH = 1400
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium() -> str:
    for name in (os.environ.get("STREAMLOAD_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    pytest.skip("headless Chromium not installed (Debian package chromium: run scripts/install-chromium)")


def screenshot(page: Path, tmp_path: Path, height: int) -> np.ndarray:
    """The page as Chromium draws it, ``height`` pixels tall: an (h, w, 3) array of 0-255 ints."""
    from matplotlib.image import imread

    shot = tmp_path / f"{page.stem}.png"
    subprocess.run([chromium(), *FLAGS, f"--window-size={WIDTH},{height}", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=False)
    assert shot.exists(), "Chromium wrote no screenshot"
    pixels = (imread(str(shot))[:, :, :3] * 255).astype(int)
    assert pixels.shape[:2] == (height, WIDTH)
    return pixels


def not_white_share(pixels: np.ndarray) -> float:
    return float((pixels.min(axis=2) < 235).mean())


def pixels_of_colour(pixels: np.ndarray, hex_colour: str, tolerance: int = 40) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=2) < tolerance).sum())


def charts_in(html: str) -> list[str]:
    """The inline chart SVGs of a page."""
    return re.findall(r"<svg role=\"img\".*?</svg>", html, flags=re.S)


def assert_charts_have_content(html: str, expected: int) -> None:
    """Each chart draws lines or shapes (paths) and labels its axes (text with digits)."""
    charts = charts_in(html)
    assert len(charts) == expected, f"{len(charts)} charts, expected {expected}"
    for svg in charts:
        name = re.search(r'data-chart="([^"]+)"', svg).group(1)
        assert svg.count("<path") >= 5, f"chart {name} draws almost nothing"
        labels = re.findall(r"<text[^>]*>([^<]+)</text>", svg)
        assert sum(any(c.isdigit() for c in label) for label in labels) >= 3, f"chart {name} has no tick labels"
