"""Screenshots of every page at 1920×1080 and 1366×768, dark and light, kept under artifacts/ for people."""

import pytest
from PIL import Image

from wangtai import e2e

SIZES = ((1920, 1080), (1366, 768))


@pytest.fixture(scope="module")
def light_server_url(browser_data):
    with e2e.streamlit_server(browser_data.root, env=e2e.light_theme_env()) as url:
        yield url


def _check(files, theme: str) -> None:
    assert len(files) == len(e2e.PAGES) * len(SIZES)
    for file in files:
        image = Image.open(file).convert("RGB")
        colours = image.getcolors(maxcolors=1_000_000)
        assert colours and len(colours) > 200, f"{file.name} looks blank"
        mean = sum(image.resize((64, 36)).convert("L").getdata()) / (64 * 36)
        assert (mean < 110) if theme == "dark" else (mean > 150), (
            f"{file.name} is not {theme} (mean {mean:.0f})"
        )


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_screenshots_of_every_page(browser, server_url, light_server_url, artifacts, theme):
    url = server_url if theme == "dark" else light_server_url
    out = artifacts / "screenshots"
    out.mkdir(exist_ok=True)
    files = [f for size in SIZES for f in e2e.shoot_pages(browser, url, out, size, theme)]
    _check(files, theme)
