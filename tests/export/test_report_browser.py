"""The review page in a real browser: headless Chromium from the system packages.

Each test writes a page, loads it from a file:// URL with every host name mapped to nothing and
no proxy, and asserts on the DOM Chromium dumps (after the page's script ran), on its network
log, or on a screenshot. Skipped only when Chromium is absent (`apt-get install -y chromium`;
.ci/run installs it).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from critparse.export.report import build_page, render_page

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (apt-get install -y chromium; .ci/run installs it)",
)

# Run after the page's own script: focus a criterion, press j then k, count fetched resources.
PROBE = """<script>
(function () {
  var root = document.documentElement, first = document.querySelector(".crit");
  first.focus();
  first.dispatchEvent(new KeyboardEvent("keydown", {key: "j", bubbles: true}));
  root.setAttribute("data-after-j", document.activeElement.id);
  document.activeElement.dispatchEvent(new KeyboardEvent("keydown", {key: "k", bubbles: true}));
  root.setAttribute("data-after-k", document.activeElement.id);
  root.setAttribute("data-resources", String(performance.getEntriesByType("resource").length));
})();
</script>
</body>"""


def chromium(page: Path, tmp: Path, *args: str) -> str:
    """Chromium on `page` with the network shut: no DNS (every name maps to nothing), no proxy."""
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", f"--user-data-dir={tmp / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--no-proxy-server", *args, page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_requests(netlog: Path) -> list[str]:
    """URLs the page asked for: requests whose initiator is the page, not the browser itself
    (Chromium's own update and time checks are 'not an origin')."""
    text = netlog.read_text("utf-8", errors="replace").rstrip()
    if not text.endswith("}"):  # a log cut short still has its events
        text = text.rstrip(",") + "]}"
    log = json.loads(text)
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if names.get(event.get("type")) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if params.get("initiator") == "not an origin":
            continue
        if not params["url"].startswith(("file:", "data:", "about:", "chrome")):
            urls.append(params["url"])
    return urls


def png_pixels(path: Path):  # type: ignore[no-untyped-def]
    """The screenshot as an (height, width, channels) uint8 array: Pillow if installed, else
    the PNG decoded here (zlib, then the five scanline filters of the PNG spec, section 9)."""
    import numpy as np

    try:
        from PIL import Image

        return np.asarray(Image.open(path).convert("RGB"))
    except ImportError:
        pass
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6), header
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, width * bpp + 1)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    prev = np.zeros(width * bpp, dtype=np.uint8)
    for y in range(height):
        out[y] = prev = _unfilter(int(raw[y, 0]), raw[y, 1:], prev, bpp)
    return out.reshape(height, width, bpp)[:, :, :3]


def _unfilter(kind: int, line, prev, bpp: int):  # type: ignore[no-untyped-def]
    import numpy as np

    if kind == 0:
        return line.copy()
    if kind == 2:
        return (line.astype(np.uint16) + prev).astype(np.uint8)
    if kind == 1:
        cells = line.reshape(-1, bpp).astype(np.uint32)
        return (np.cumsum(cells, axis=0) % 256).astype(np.uint8).reshape(-1)
    cur = bytearray(line.tobytes())
    up = prev.tobytes()
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = up[i]
        if kind == 3:
            cur[i] = (cur[i] + ((a + b) >> 1)) & 0xFF
            continue
        c = up[i - bpp] if i >= bpp else 0
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
    return np.frombuffer(bytes(cur), dtype=np.uint8)


@pytest.fixture(scope="module")
def seed_file(seed_trials, report_tools, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("page") / "seed.html"
    path.write_text(render_page(build_page(seed_trials, tools=report_tools)), "utf-8")
    return path


@pytest.fixture(scope="module")
def seed_in_browser(seed_file, tmp_path_factory, dom):
    """The seed page with the probe, loaded once: its DOM after scripts, and its network log."""
    tmp = tmp_path_factory.mktemp("chromium")
    probed = tmp / "seed-probed.html"
    probed.write_text(seed_file.read_text("utf-8").replace("</body>", PROBE, 1), "utf-8")
    netlog = tmp / "netlog.json"
    html = chromium(probed, tmp, f"--log-net-log={netlog}", "--dump-dom")
    return dom.parse(html), netlog


def test_browser_every_criterion_and_rule_highlighted(seed_in_browser, seed_trials, dom) -> None:
    doc, _ = seed_in_browser
    wanted = [c for c in seed_trials[0].criteria if c.kind != "header"]
    crits = doc.select("li", cls="crit")
    assert [c.attrs["data-path"] for c in crits] == [c.path for c in wanted]
    for crit, criterion in zip(crits, wanted, strict=True):
        assert crit.by_id(crit.attrs["id"] + "-t").text() == criterion.text
        assert crit.attrs["tabindex"] == "0"
        for i, rule in enumerate(criterion.rules):
            assert dom.rule_text(crit, i) == criterion.text[rule.span.start:rule.span.end]


def test_browser_script_runs_and_keys_move_focus(seed_in_browser) -> None:
    doc, _ = seed_in_browser
    root = doc.select("html")[0]
    assert root.attrs["data-js"] == "ready"
    assert root.attrs["data-after-j"] == "t1-c2"
    assert root.attrs["data-after-k"] == "t1-c1"


def test_browser_nothing_fetched(seed_in_browser, seed_file, dom) -> None:
    doc, netlog = seed_in_browser
    assert doc.select("html")[0].attrs["data-resources"] == "0"
    assert page_requests(netlog) == []
    assert dom.external(seed_file.read_text("utf-8")) == []


def test_browser_network_check_sees_a_fetch(tmp_path) -> None:
    """The check above is not vacuous: a page with an external image is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><img src="https://example.org/x.png" alt="">', "utf-8")
    netlog = tmp_path / "netlog.json"
    chromium(page, tmp_path, f"--log-net-log={netlog}", "--dump-dom")
    assert page_requests(netlog) == ["https://example.org/x.png"]


def test_browser_screenshot_is_not_blank(seed_file, tmp_path) -> None:
    png = tmp_path / "seed.png"
    chromium(seed_file, tmp_path, f"--screenshot={png}", "--window-size=1280,2000",
             "--hide-scrollbars")
    pixels = png_pixels(png)
    assert pixels.shape[:2] == (2000, 1280)
    grey = pixels.astype(float).mean(axis=2)
    assert grey.std() > 20  # text and highlights, not one flat colour
    assert (grey < 128).mean() > 0.01  # dark ink covers more than 1% of the page
    tinted = (pixels.max(axis=2).astype(int) - pixels.min(axis=2)) > 30
    assert tinted.mean() > 0.005  # the coloured highlights are drawn


def test_browser_fifty_trials_with_patient(fifty_trials_file, fifty_trials, report_tools, tmp_path,
                                           dom) -> None:
    _, ids = fifty_trials_file
    trials = fifty_trials
    page = tmp_path / "fifty.html"
    page.write_text(render_page(build_page(trials, tools=report_tools, patient=dom.patient)), "utf-8")
    doc = dom.parse(chromium(page, tmp_path, "--dump-dom"))
    assert [a.attrs["data-trial-id"] for a in doc.select("article")] == ids
    rows = doc.select("tr", cls="index-row")
    assert len(rows) == 50 and all(r.select("span", cls="badge") for r in rows)
    verdicts = doc.select("p", cls="verdict")
    assert len(verdicts) == 50 and all(v.text().strip()[0] in "✓✗?" for v in verdicts)
    assert len(doc.select("li", cls="crit")) == sum(c.kind != "header" for t in trials for c in t.criteria)


def test_browser_prints(seed_file, tmp_path) -> None:
    pdf = tmp_path / "seed.pdf"
    chromium(seed_file, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20_000
    assert data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= 2
