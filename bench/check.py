"""How long `wst check` takes over one very large content file: 1 MB, 2 MB and 20 MB, in three shapes.

The bundled project is copied and one file is grown to the size: the bundled posts repeated
under fresh ids (a posts file), one post whose text is the words that cost the checks most
(one text), or the bundled bulletin's stories repeated (a bulletin). Times
are load + check in this process (config, calendar, content, the content checks), without the
interpreter's start-up, which the last line gives for scale. Prints figures beside their goals;
asserts nothing about speed (machines differ). Run with `make bench` or
`.venv/bin/python bench/check.py`.
"""

from __future__ import annotations

import gc
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.check import load_project  # noqa: E402
from pipeline.config import load_config  # noqa: E402  (the path is set just above)
from pipeline.services.planning import check  # noqa: E402

# 1 MB, just under the 2 MB a content file may be (twice the size: about twice the time), 20 MB
SIZES = (1_000_000, 1_950_000, 20_000_000)
TODAY = date(2026, 11, 1)


def grow_posts(root: Path, size: int) -> Path:
    """content/posts/orange-wolverhampton.toml: its posts repeated, each copy with new ids."""
    path = root / "content" / "posts" / "orange-wolverhampton.toml"
    text = path.read_text(encoding="utf-8")
    parts, copy = [text], 0
    total = len(text.encode("utf-8"))
    while total < size:
        copy += 1
        # new ids, and words of its own in each post, so that no two posts are the same
        part = re.sub(r'^id = "([^"]+)"', rf'id = "\1-{copy}"', text, flags=re.MULTILINE)
        part = part.replace('text = """', f'text = """{copy} ')
        parts.append(part)
        total += len(part.encode("utf-8")) + 1
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


# Words that cost the most per character: links and tags together, a many-dotted word, a
# bracketed path, numbers, capitalised names, an age and a place.
HOSTILE = ("See https://www.wolverhamptonsafeguarding.org.uk/report?utm_source=x #SaferInternetDay "
           "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p https://example.org/(a)(b)(c)(d) call 01902 555392 "
           "or 0800 1111. Jane Smith, 10, from Bilston Primary was helped 9-15 February. ")


def grow_text(root: Path, size: int) -> Path:
    """content/posts/orange-wolverhampton.toml with one more post, whose text is `size` bytes
    of the words that cost the checks most."""
    path = root / "content" / "posts" / "orange-wolverhampton.toml"
    text = path.read_text(encoding="utf-8")
    words = HOSTILE * (size // len(HOSTILE.encode("utf-8")) + 1)
    path.write_text(f'{text}\n[[post]]\nid = "long"\nwhen = "on the day at 12:00"\n'
                    f'text = """{words}"""\n', encoding="utf-8")
    return path


def grow_bulletin(root: Path, size: int) -> Path:
    """content/bulletins/2026-12.toml: its stories repeated."""
    path = root / "content" / "bulletins" / "2026-12.toml"
    text = path.read_text(encoding="utf-8")
    head, _, stories = text.partition("[[story]]")
    stories = "[[story]]" + stories
    parts = [head, stories]
    total = len(text.encode("utf-8"))
    while total < size:
        parts.append(stories)
        total += len(stories.encode("utf-8"))
    path.write_text("".join(parts), encoding="utf-8")
    return path


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds): on a shared machine the CPU time says more."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - start, time.process_time() - cpu


def run(shape: str, grow: Callable[[Path, int], Path], sizes: tuple[int, ...] = SIZES) -> None:
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="wst-bench-check-") as tmp:
            root = Path(tmp) / "project"
            shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns(
                ".venv", ".git", "tests", "bench", "var", "outbox", "preview", "__pycache__"))
            path = grow(root, size)
            actual = path.stat().st_size
            config_path = root / "config.toml"
            report, seconds, cpu = timed(
                lambda p=config_path: check(load_project(load_config(p)), TODAY))
            first = next((str(p) for p in report.problems if p.is_error), "")
            goal = ""
            if size == 1_000_000:
                goal = f"goal < 1 s: {'met' if seconds < 1 else 'NOT MET'}"
            print(f"  {shape:<9} {actual / 1e6:6.2f} MB {seconds:6.2f} s ({cpu:5.2f} s CPU) "
                  f"{report.posts:6d} posts {report.errors:4d} error(s)   {goal}")
            if first and report.errors == 1:
                print(f"            {first.split(tmp)[-1].lstrip('/')[:130]}")


def startup() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pipeline.cli"], cwd=ROOT, check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"Python {sys.version.split()[0]}; load + check of the bundled project with one file "
          f"grown\n")
    # once, untimed: modules imported and patterns compiled on first use are not the file's cost
    check(load_project(load_config(ROOT / "config.toml")), TODAY)
    run("posts", grow_posts)
    run("one text", grow_text)
    # a bulletin file may be at most 100 KB (it is one email): that size too
    run("bulletin", grow_bulletin, (95_000, *SIZES))
    print(f"\n  interpreter start-up and imports of `wst`: {startup():.2f} s (not in the times above)")
