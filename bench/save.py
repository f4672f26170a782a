"""Saving from the browser, benchmarked: a real `wst serve` over a copy of the bundled year
(config.toml, schedules/, content/) on loopback; the business unit (in support for campaign
posts) opens a post's form and saves a change to its text, again and again, exactly as the
browser's form does. Each time is from the moment the save is sent to the moment the new
version is planned: its row is read from the store's file (as any other process would see it),
with the version the new words give. The goal: p95 under 300 ms. Also the server's own time
for the save (its Server-Timing header). Prints figures, asserts nothing. Run with
`.venv/bin/python bench/save.py`.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
import tomllib
from contextlib import closing
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "bench", ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from web import Times, pct, project_copy  # noqa: E402  (the paths are set just above)
from web_support import serving  # noqa: E402

SAVES = 20
WARM = 2              # saves first: the first records the whole year in the ledger
WRITER = "business-unit"
CAMPAIGN = "safer-internet-day"   # its posts are for campaign-posts, where WRITER supports
POST = "next-week"


class Form(HTMLParser):
    """The fields of one form of a page, as a browser would send them."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._text: tuple[str, list[str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or ("name" not in a and tag != "option"):
            return
        if tag == "input" and a.get("type") not in ("file", "submit"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._text = (a["name"], [])
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))

    def handle_data(self, data):
        if self._text:
            self._text[1].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._text:
            self.fields.append((self._text[0], "".join(self._text[1])))
            self._text = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_of(page: str) -> dict[str, list[str]]:
    parser = Form("post-form")
    parser.feed(page)
    out: dict[str, list[str]] = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    return out


def versions(db: Path, prefix: str) -> set[tuple[str, str]]:
    """(item id, version) of the rows still to go for the post's items."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return set(conn.execute("SELECT item_id, version FROM ledger WHERE item_id LIKE ? "
                                "AND state IN ('planned', 'approved')", (prefix + "%",)))


def main() -> None:
    """Print the figures."""
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        project = project_copy(Path(tmp) / "year")
        text = tomllib.loads(project.read(f"content/posts/{CAMPAIGN}.toml"))
        original = next(p["text"] for p in text["post"] if p["id"] == POST).strip()
        with serving(project) as server:
            client = server.signed_in(WRITER)
            db = project.path / "var" / "wst.sqlite"
            page = f"/write/posts/{CAMPAIGN}/{POST}"
            saved, missed = Times(), 0
            for n in range(WARM + SAVES):
                form = form_of(client.get(page).text)
                form["text"] = [f"{original} ({n + 1})"]
                form["action"] = ["save"]
                before = versions(db, f"{CAMPAIGN}/{POST}/")
                body = [(k, v) for k, values in form.items() for v in values
                        if k != "csrf_token"]
                started = time.perf_counter()
                done = client.post(f"/write/posts/{CAMPAIGN}/save", body)
                # the new version is planned when a row of a version not seen before is there
                while not (versions(db, f"{CAMPAIGN}/{POST}/") - before):
                    if time.perf_counter() - started > 10:
                        missed += 1
                        break
                    time.sleep(0.002)
                elapsed = (time.perf_counter() - started) * 1000
                if done.status_code != 302:
                    print(f"  save {n + 1} refused: HTTP {done.status_code}")
                    continue
                if n >= WARM:
                    saved.add(elapsed, done)
            print(f"saving a post's change from its form ({SAVES} saves after {WARM} to warm up; "
                  f"ms):")
            print(saved.line("save pressed to new version planned", "goal: client p95 < 300"))
            if missed:
                print(f"  ({missed} saves were not planned within 10 s)")
            print(f"  p50 {pct(saved.client, 50):.1f} ms, p95 {pct(saved.client, 95):.1f} ms "
                  f"from pressing save to the new version in the ledger")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
