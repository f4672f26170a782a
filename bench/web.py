"""Web workspace benchmark: a real `wst serve` over a copy of the bundled year (config.toml,
schedules/, content/) on loopback, people signed in through their invitation links, and:

- the year's calendar: the month view of each of its twelve months and the agenda over the
  year (eight weeks a page), each several times;
- an item's review page, for posts across the year;
- an approval (a co-chair approving one post's version on screen), each a different post;
- 20 signed-in people browsing at once for 60 s (calendar, agenda, items, approvals, bulletin,
  status, history): requests, errors and p95.

Each time is the client's over loopback (request sent to body read) and the server's own
(its Server-Timing header). Goals (p95, server time): the calendar under 150 ms, an item page
under 100 ms, an approval under 100 ms; no error while 20 people browse. Prints figures,
asserts nothing. Run with `.venv/bin/python bench/web.py`.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "tests"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from conftest import ProjectDir  # noqa: E402  (the paths are set just above)
from web_support import Client, Server, serving  # noqa: E402

YEAR = (date(2026, 9, 1), date(2027, 8, 31))
ROUNDS = 5            # each page of the year's calendar is timed this many times
ITEMS = 40            # item pages timed (each twice), and approvals (each once)
PEOPLE = 20           # browsing at once
BROWSE_SECONDS = 60
READER = "business-unit"
# accountable for the campaigns and the bulletin, and for the priority groups' campaigns
APPROVERS = ("cande-cochair-wvsc", "priority-leads")
_TIMING = re.compile(r"app;dur=([0-9.]+)")
_ITEM = re.compile(r'href="/items/([^"#]+)"')


@dataclass
class Times:
    """Client and server milliseconds of one kind of request."""

    client: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)

    def add(self, client_ms: float, response) -> None:
        self.client.append(client_ms)
        found = _TIMING.search(response.headers.get("Server-Timing", ""))
        if found:
            self.server.append(float(found.group(1)))

    def line(self, what: str, goal: str) -> str:
        return (f"  {what:<34} {len(self.client):>4}   server p50 {pct(self.server, 50):6.1f}"
                f"  p95 {pct(self.server, 95):6.1f}   client p50 {pct(self.client, 50):6.1f}"
                f"  p95 {pct(self.client, 95):6.1f}   ({goal})")


def pct(values: list[float], p: int) -> float:
    """The p-th percentile (nearest rank); 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def timed(times: Times, call: Callable[[], object]):
    """Call, add its times, return the response."""
    started = time.perf_counter()
    response = call()
    times.add((time.perf_counter() - started) * 1000, response)
    return response


def year_pages() -> list[str]:
    """Every page of the year's calendar: twelve months and the agenda's pages over the year."""
    pages, month = [], YEAR[0]
    while month <= YEAR[1]:
        pages.append(f"/calendar?month={month:%Y-%m}")
        month = (month + timedelta(days=32)).replace(day=1)
    start = YEAR[0]
    while start <= YEAR[1]:
        pages.append(f"/calendar/agenda?start={start.isoformat()}")
        start += timedelta(weeks=8)
    return pages


def project_copy(folder: Path) -> ProjectDir:
    """The bundled year in a throwaway folder (its own store)."""
    folder.mkdir()
    shutil.copy2(ROOT / "config.toml", folder / "config.toml")
    for sub in ("schedules", "content"):
        shutil.copytree(ROOT / sub, folder / sub)
    return ProjectDir(folder)


def posts(client: Client, ahead: bool = False) -> list[str]:
    """Item ids of posts across the year (or only those still to come, which wait for an
    approval), from the agenda; bulletins left out: they have pages of their own."""
    found: list[str] = []
    today = date.today()
    for page in year_pages():
        start = date.fromisoformat(page.rsplit("=", 1)[1]) if "agenda" in page else None
        if start is not None and (not ahead or start + timedelta(weeks=8) > today):
            found += [i for i in _ITEM.findall(client.get(page).text) if "bulletin/" not in i]
    found = [i for i in dict.fromkeys(found) if not ahead or i.split("/")[2] > today.isoformat()]
    return found[:: max(1, len(found) // ITEMS)][:ITEMS]


def single(server: Server) -> None:
    """One person at a time: the year's calendar, item pages, approvals."""
    reader = server.signed_in(READER)
    approvers = [server.signed_in(person) for person in APPROVERS]
    for page in year_pages():  # once to warm the server's caches, as a day's use would
        reader.get(page)
    calendar = Times()
    for _ in range(ROUNDS):
        for page in year_pages():
            timed(calendar, lambda p=page: reader.get(p))
    ids = posts(reader)
    item_pages, approvals = Times(), Times()
    for item in ids * 2:
        timed(item_pages, lambda i=item: reader.get(f"/items/{i}"))
    refused = 0
    for item in posts(reader, ahead=True):
        for approver in approvers:   # whoever may approve it sees it with its version
            page = approver.get(f"/items/{item}").text   # and a fresh token
            version = re.search(rf'value="{re.escape(item)}=([0-9a-f]+)"', page)
            if version is not None:
                break
        else:
            refused += 1
            continue
        seen = f"{item}={version.group(1)}"
        done = timed(approvals, lambda a=approver, i=item, v=seen: a.post(
            f"/items/{i}/approve", [("item", v)]))
        # (after the clock stops) the page it returns to says whether it was approved
        said = approver.get(done.headers.get("Location", "/")).text
        refused += "Approved 1 item(s)" not in said
    print(f"one person at a time (ms; {len(year_pages())} calendar pages x {ROUNDS}, "
          f"{len(ids)} posts):")
    print(calendar.line("the year's calendar (month, agenda)", "goal: server p95 < 150"))
    print(item_pages.line("an item page", "goal: server p95 < 100"))
    print(approvals.line("an approval", "goal: server p95 < 100"))
    if refused:
        print(f"  ({refused} approvals were not made: nothing to approve, or refused)")


def browse(server: Server) -> None:
    """PEOPLE signed-in people at once, each loading a page after another for BROWSE_SECONDS."""
    people = list(server.project.read("config.toml").split("[people.")[1:])
    names = [p.split("]", 1)[0] for p in people]
    reader = server.signed_in(READER)
    ids = posts(reader)
    pages = year_pages() + [f"/items/{i}" for i in ids] + [
        "/approvals", "/bulletin", "/status", "/history", "/calendar/week?start=2027-02-08"]
    clients = []
    for n in range(PEOPLE):   # a session each (several people share an account here)
        name = names[n % len(names)]
        if name not in server.passwords:
            server.account(name)
        client = Client(server.url)
        client.sign_in(name, server.passwords[name])
        clients.append(client)
    times, errors, lock = Times(), [], threading.Lock()
    stop = time.monotonic() + BROWSE_SECONDS

    def person(client: Client, seed: int) -> None:
        pick = random.Random(seed)
        while time.monotonic() < stop:
            page = pick.choice(pages)
            started = time.perf_counter()
            try:
                response = client.get(page)
            except OSError as exc:
                with lock:
                    errors.append(f"{page}: {exc}")
                continue
            with lock:
                times.add((time.perf_counter() - started) * 1000, response)
                if response.status_code != 200:
                    errors.append(f"{page}: HTTP {response.status_code}")

    threads = [threading.Thread(target=person, args=(c, n)) for n, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"\n{PEOPLE} signed-in people browsing at once for {BROWSE_SECONDS} s:")
    print(f"  {len(times.client)} requests ({len(times.client) / BROWSE_SECONDS:.1f} a second), "
          f"{len(errors)} errors (goal: none)")
    print(f"  server p50 {pct(times.server, 50):.1f} ms, p95 {pct(times.server, 95):.1f} ms; "
          f"client p50 {pct(times.client, 50):.1f} ms, p95 {pct(times.client, 95):.1f} ms")
    for e in errors[:5]:
        print(f"  error: {e}")


def main() -> None:
    """Print every figure."""
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as tmp:
        project = project_copy(Path(tmp) / "year")
        with serving(project) as server:
            single(server)
            browse(server)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
