"""The printable page in headless Chromium: A4 pages, no table clipped, no script run.

The page of the hand-built sheet (40 districts, so tables run over pages; long
checksums and paths; a park named with a script tag) is printed with ``page.pdf()``;
``pdfinfo`` says every page is A4, ``pdftoppm`` renders the pages into the test's
folder, and on the pages the strip right of the printable width must be blank and the
section rules (the green line under each heading, as wide as the page's text) must be
printed full width: Chromium shrinks a page whose content is too wide for the paper
instead of cutting it, which a narrower rule shows. In the browser, under print media
at the printable width, no table and no cell is wider than its box. A page with a
table too wide for A4 is caught (the checks can fail).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import report_checkup as fixture
from PIL import Image

from gisrenew.report import write_report
from gisrenew.report.html import PAGE_MARGIN_MM

pytestmark = pytest.mark.browser

A4_MM = (210.0, 297.0)
PX_PER_MM = 96 / 25.4
DPI = 100
#: The colour of the rule under each heading (h2 of the report's page).
RULE_RGB = (0x1B, 0x78, 0x37)
#: The strip checked for ink: the right margin less 3 mm of anti-aliasing slack.
STRIP_MM = PAGE_MARGIN_MM - 3


@pytest.fixture(scope="module")
def poppler():
    if not (shutil.which("pdftoppm") and shutil.which("pdfinfo")):
        pytest.skip("poppler-utils (pdftoppm, pdfinfo) not installed")


def _open(map_browser, path: Path):
    page = map_browser.context.new_page()
    requests: list[str] = []

    def handle(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            requests.append(url)
            route.abort()

    page.route("**/*", handle)
    printable = round((A4_MM[0] - 2 * PAGE_MARGIN_MM) * PX_PER_MM)
    page.set_viewport_size({"width": printable, "height": 1000})
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    return page, requests


_OVERFLOW = """() => {
  const out = [];
  const width = document.body.clientWidth;
  for (const table of document.querySelectorAll('table')) {
    const name = table.dataset.table || 'table';
    const right = table.getBoundingClientRect().right;
    if (table.scrollWidth > table.clientWidth + 1 || right > width + 1)
      out.push(name + ': table ' + table.scrollWidth + ' > ' + table.clientWidth);
    for (const cell of table.querySelectorAll('td, th'))
      if (cell.scrollWidth > cell.clientWidth + 1)
        out.push(name + ': cell "' + cell.textContent.slice(0, 30) + '"');
  }
  return out;
}"""


def _pdf_pages(page, folder: Path) -> list[Path]:
    pdf = folder / "report.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    sizes = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(pages), str(pdf)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", sizes)
    assert len(found) == pages
    for width, height in found:  # A4 is 595.3 × 841.9 pt
        assert abs(float(width) / 72 * 25.4 - A4_MM[0]) < 1.0
        assert abs(float(height) / 72 * 25.4 - A4_MM[1]) < 1.0
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(pdf), str(folder / "page")],
                   check=True)  # fmt: skip
    return sorted(folder.glob("page-*.png"))


def _ink_in_right_margin(images: list[Path]) -> list[str]:
    """Pages with anything but white in the strip right of the printable width."""
    inked = []
    for path in images:
        image = Image.open(path).convert("L")
        strip_px = int(STRIP_MM / 25.4 * DPI)
        strip = image.crop((image.width - strip_px, 0, image.width, image.height))
        if strip.getextrema()[0] < 245:
            inked.append(path.name)
    return inked


def _widest_rule_mm(images: list[Path]) -> float:
    """The longest run of the heading rule's green across a pixel row, over all pages (mm)."""
    widest = 0
    for path in images:
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)
        red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
        rule = (green - red > 30) & (green - blue > 10)  # the green, anti-aliased too
        for row in np.flatnonzero(rule.any(axis=1)):
            xs = np.flatnonzero(rule[row])
            widest = max(widest, xs[-1] - xs[0] + 1)
    return widest / DPI * 25.4


def test_report_prints_on_a4_without_clipped_tables(map_browser, poppler, tmp_path):
    path = write_report(fixture.checkup(), tmp_path / "体检报告.html")
    page, requests = _open(map_browser, path)
    try:
        assert page.evaluate(_OVERFLOW) == []
        # the script in a name is text
        assert page.evaluate("() => window.__xss") is None
        cells = page.locator("td", has_text="window.__xss=1")
        assert cells.count() >= 3
        assert fixture.HOSTILE in cells.first.text_content()
        # every table and every checksum in full
        assert page.locator("table[data-table=districts] tbody tr").count() == 40
        assert fixture.SHA_A in page.locator("table[data-table=trace_inputs]").text_content()
        # the picture is in the page and drawn
        assert page.evaluate("() => document.querySelector('figure img').naturalWidth") > 500
        images = _pdf_pages(page, tmp_path)
    finally:
        page.close()
    assert requests == []  # no network
    assert len(images) >= 3  # 40 districts run over pages
    assert _ink_in_right_margin(images) == []
    printable = A4_MM[0] - 2 * PAGE_MARGIN_MM
    assert _widest_rule_mm(images) == pytest.approx(printable, abs=1.5)  # not shrunk
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "公园绿地服务半径覆盖率提升至 86.18%" in text


def test_the_checks_catch_a_table_too_wide_for_a4(map_browser, poppler, tmp_path):
    """A control: a page made like the report (body as wide as A4's text) with a table of
    250 mm is reported by the browser check and shows shrunk on the PDF page."""
    wide = tmp_path / "wide.html"
    cells = "".join(f"<td>第{i}列的内容</td>" for i in range(12))
    wide.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page { size: A4; margin: "
        f"{PAGE_MARGIN_MM}mm; }} body {{ margin: 0; max-width: 180mm; }} table {{ width: 250mm; }}"
        "td { border: 1px solid black; } h2 { border-bottom: 1.5px solid #1b7837; }"
        "</style></head><body><h2>标题</h2>"
        f"<table data-table='wide'><tr>{cells}</tr></table></body></html>",
        encoding="utf-8",
    )
    page, _ = _open(map_browser, wide)
    try:
        assert page.evaluate(_OVERFLOW)
        images = _pdf_pages(page, tmp_path)
    finally:
        page.close()
    printable = A4_MM[0] - 2 * PAGE_MARGIN_MM
    assert _widest_rule_mm(images) < printable - 20  # Chromium shrank the page to fit
