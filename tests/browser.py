"""Headless Chromium with the network off, for pages that must work offline.

Chromium gets a fresh profile and a proxy on the discard port of the loopback for every
scheme with nothing bypassing it, so any fetch of a page from the network fails; the
page is a ``file://`` URL. :func:`probe` adds a tiny script to a copy of a page (beside
it, so relative links stay the same) that records computed styles and the resources the
page loaded as attributes of ``<html>``, then reads them from the dumped DOM.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        pytest.fail("chromium not found (PATH, /usr/bin/chromium); install Debian's: apt-get install -y chromium")
    return found


def dump_dom(page: Path, profile: Path, fragment: str = "", budget_ms: int = 3000) -> str:
    """The DOM of ``page`` (``#fragment`` appended) after Chromium, offline, loaded it and
    ran its scripts for ``budget_ms`` of virtual time."""
    done = subprocess.run(
        [chromium(), *OFFLINE_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}",
         "--dump-dom", page.as_uri() + fragment],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "</html>" in done.stdout, f"no DOM from chromium: {done.stderr[-2000:]}"
    return done.stdout


#: ``{name: [css selector, css property]}`` -> ``data-probe-<name>`` on ``<html>``.
_PROBE = """<script>
(() => {
  const asked = %s, root = document.documentElement;
  for (const [name, [selector, property]] of Object.entries(asked)) {
    const el = document.querySelector(selector);
    root.setAttribute("data-probe-" + name, el ? getComputedStyle(el).getPropertyValue(property) : "(no element)");
  }
  root.setAttribute("data-probe-resources", JSON.stringify(performance.getEntriesByType("resource").map(e => e.name)));
})();
</script>"""


def probe(page: Path, profile: Path, styles: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Computed styles of ``page`` in offline Chromium: ``styles`` maps a name to a CSS
    selector and property; the result maps it to the computed value, and ``resources``
    to the JSON list of every resource the page loaded."""
    html = page.read_text(encoding="utf-8")
    copy = page.with_name(f"probe-{page.name}")
    copy.write_text(html.replace("</body>", _PROBE % json.dumps(styles) + "</body>"), encoding="utf-8")
    try:
        dom = dump_dom(copy, profile)
    finally:
        copy.unlink()
    root = _Root(dom)
    return {k.removeprefix("data-probe-"): v for k, v in root.attrs.items() if k.startswith("data-probe-")}


class _Root(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.attrs: dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.attrs = {k: v or "" for k, v in attrs}
