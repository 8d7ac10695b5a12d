"""Regenerate the README's screenshots: one code card as a 390-px phone shows it, light and night.

    python scripts/screenshots.py [CARD_ID]

Builds the preview of this repository's deck, opens it in headless Chromium (Debian's package,
driven by Playwright) at a phone's width and photographs the card.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import open_browser  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main(card_id: str = "memoization-lru-cache") -> None:
    site = ROOT / "dist" / "preview"
    subprocess.run([sys.executable, str(ROOT / "build_deck.py"), "preview", "--out", str(site)], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    with open_browser() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 900}, device_scale_factor=2)
        page.goto((site / "python-interview-prep.html").as_uri())
        page.check("#phone")
        page.fill("#search", card_id)
        card = page.locator(".preview-card:not([hidden])").first.locator(".side").last  # the back
        for mode in ("light", "dark"):
            page.set_checked("#dark", mode == "dark")
            card.screenshot(path=str(OUT / f"code-card-{mode}.png"))
            print(OUT / f"code-card-{mode}.png")


if __name__ == "__main__":
    main(*sys.argv[1:])
