"""Rendering benchmark: prints figures, asserts nothing (shared machines are noisy).

- the time to preview the bundled year (plan, render and check every item, write the site);
- per bulletin: the whole render and check against the raw `mjml2html` call on the same MJML;
- per post: the render and check time on each platform.

Goals: the bundled year in under 2 s; a bulletin rendered and checked in under 10 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from mjml import mjml2html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.check import load_project  # noqa: E402
from pipeline.config import load_config  # noqa: E402 - after the path set-up above
from pipeline.lint import lint_post  # noqa: E402
from pipeline.render import Renderer  # noqa: E402
from pipeline.services import planning  # noqa: E402
from renderers.social import render_post  # noqa: E402

YEAR = (date(2026, 9, 1), date(2027, 8, 31))
REPEAT = 20


def best_ms(fn, repeat: int = REPEAT) -> tuple[float, float]:
    """Median and best wall time of `fn` in milliseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def preview_year(out: Path) -> tuple[int, float]:
    """Load, plan, render, check and write the bundled year; items and seconds."""
    t = time.perf_counter()
    config = load_config(ROOT / "config.toml")
    project = load_project(config)
    summary = planning.preview(project, *YEAR, out, datetime(2026, 11, 23, 9, 0).astimezone())
    return summary.items, time.perf_counter() - t


def main() -> None:
    """Print every figure."""
    with tempfile.TemporaryDirectory() as tmp:
        count, seconds = preview_year(Path(tmp) / "site")
        preview_year(Path(tmp) / "site2")  # warm caches once, then measure again
        count, seconds = preview_year(Path(tmp) / "site3")
    print(f"preview of the bundled year ({YEAR[0]} to {YEAR[1]}): {count} items in "
          f"{seconds:.2f} s (goal: under 2 s)")

    config = load_config(ROOT / "config.toml")
    project = load_project(config)
    renderer = Renderer(project)
    email = project.cadence.channels[0]
    print(f"\nbulletins (median / best of {REPEAT}, ms)         render+check   raw mjml2html")
    for month, bulletin in sorted(project.bulletins.items()):
        rendered = renderer.bulletin(bulletin, email)
        whole = best_ms(lambda b=bulletin, m=month: renderer.bulletin_findings(b, email, m))
        raw = best_ms(lambda m=rendered.mjml: mjml2html(m, fonts={}))
        print(f"  {month}                                    {whole[0]:6.2f} / {whole[1]:5.2f}"
              f"   {raw[0]:6.2f} / {raw[1]:5.2f}   (goal: under 10 ms)")

    print("\nposts: render+check per platform (median of all bundled posts, microseconds)")
    context = renderer.context
    kinds = sorted({c.kind for c in config.settings.channels.values()
                    if c.kind not in ("mailchimp", "smtp")})
    from renderers.model import PostInput

    for kind in kinds:
        samples = []
        for cp in project.posts:
            p = PostInput(text=cp.post.variants.get(kind, cp.post.text), platform=kind,
                          channel=kind, campaign=cp.campaign, link=cp.post.link,
                          image=cp.post.image, alt=cp.post.alt)
            t = time.perf_counter()
            rendered = render_post(p, own_hosts=renderer.hosts)
            lint_post(rendered, context, cp.ref)
            samples.append((time.perf_counter() - t) * 1e6)
        print(f"  {kind:10s} {statistics.median(samples):8.0f} us  "
              f"(max {max(samples):.0f} us over {len(samples)} posts)")


if __name__ == "__main__":
    main()
