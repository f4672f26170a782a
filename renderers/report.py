"""The evaluation report as one offline HTML page (inline SVG charts), a long CSV, or JSON.

Takes the plain data built by pipeline.metrics.report (dicts, lists, numbers, ISO strings), so
nothing here imports the pipeline."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from renderers.csvfile import to_csv
from renderers.dates import MONTHS, MONTHS_SHORT

TEMPLATES = Path(__file__).parent / "templates" / "report"
CSV_COLUMNS = ("section", "campaign", "channel", "item", "month", "measure", "value")

# Calm colours; every fill keeps at least 3:1 against white (WCAG non-text contrast), and text
# is always the dark ink, never a colour, so nothing depends on telling colours apart.
INK = "#1b1f24"
MUTED = "#57606a"
GRID = "#d0d7de"
BLUE = "#2f5d8a"
TEAL = "#2e7d6f"
AMBER = "#a15c00"
RED = "#b3261e"
WINDOW = "#f6e7c8"


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt_num, pct=fmt_pct, month=fmt_month, day=fmt_day, usd=fmt_usd)
    return env


# -- formatting ----------------------------------------------------------------------------------

def fmt_num(value: Any) -> str:
    """A count with thousands separators; a dash when unknown."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer() and abs(value) < 10:
        return f"{value:,.1f}"
    # Platform counts can arrive as averages or estimates: whole numbers read better.
    return f"{round(value):,}"


def fmt_pct(value: Any, places: int = 1) -> str:
    """A fraction as a percentage; a dash when unknown."""
    if value is None:
        return "–"
    return f"{value * 100:.{places}f}%"


def fmt_usd(value: Any) -> str:
    """Dollars and cents, or 'unknown'."""
    return "unknown" if value is None else f"${value:,.2f}"


def fmt_month(value: str, short: bool = False) -> str:
    """'2024-04' as 'April 2024' (or 'Apr 24')."""
    year, month = int(value[:4]), int(value[5:7])
    if short:
        return f"{MONTHS_SHORT[month - 1]} {year % 100:02d}"
    return f"{MONTHS[month - 1]} {year}"


def fmt_day(value: str) -> str:
    """'2024-04-09' (or a full ISO time) as '9 April 2024'."""
    day = date.fromisoformat(value[:10])
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _signed(value: float | None, pct: float | None) -> str:
    if value is None:
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    text = f"{sign}{fmt_num(abs(value))}"
    return f"{text} ({sign}{abs(pct) * 100:.1f}%)" if pct is not None else text


# -- charts --------------------------------------------------------------------------------------

def _svg(chart_id: str, width: int, height: int, title: str, desc: str, body: list[str]) -> Markup:
    """An accessible SVG: role img, named by its <title> and described by its <desc>."""
    return Markup(
        f'<svg class="chart" id="{chart_id}" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12,
          fill: str = INK, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>')


def _nice_max(value: float) -> float:
    """A round axis top at or above `value`."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * step >= value:
            return m * step
    return 10.0 * step


def concerns_chart(concerns: dict[str, Any], chart_id: str = "chart-concerns") -> Markup | None:
    """Concerns per month (children and adults stacked) against the baseline, live windows shaded."""
    months = concerns["months"]
    if not any(m["total"] is not None for m in months):
        return None
    baseline = concerns["baseline"]
    width, height, left, right, top, bottom = 760, 320, 56, 16, 34, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([m["total"] or 0 for m in months] + [baseline["total"] if baseline else 0])
    y_max = _nice_max(peak * 1.08)
    slot = plot_w / len(months)
    bar = min(34.0, slot * 0.62)

    def y(v: float) -> float:
        return top + plot_h - v / y_max * plot_h

    body = []
    # Live campaign windows: shaded behind the bars, placed by day within the month.
    first = date.fromisoformat(months[0]["month"] + "-01")
    span_end = _month_end(months[-1]["month"])
    for w in concerns.get("windows", []):
        a = max(date.fromisoformat(w["from"]), first)
        b = min(date.fromisoformat(w["to"]), span_end)
        if a > b:
            continue
        x0, x1 = left + _month_pos(a, first) * slot, left + _month_pos(b + timedelta(days=1), first) * slot
        body.append(f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" '
                    f'height="{plot_h}" fill="{WINDOW}"/>')
    for i in range(5):
        v = y_max * i / 4
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 8, y(v) + 4, fmt_num(round(v)), anchor="end", size=11,
                          fill=MUTED))
    every = 1 if len(months) <= 14 else 2 if len(months) <= 28 else 3
    for i, m in enumerate(months):
        cx = left + slot * (i + 0.5)
        if m["total"] is not None:
            yc = y(m["children"])
            body.append(f'<rect x="{cx - bar / 2:.1f}" y="{yc:.1f}" width="{bar:.1f}" '
                        f'height="{top + plot_h - yc:.1f}" fill="{BLUE}"/>')
            ya = y(m["children"] + m["adults"])
            body.append(f'<rect x="{cx - bar / 2:.1f}" y="{ya:.1f}" width="{bar:.1f}" '
                        f'height="{yc - ya:.1f}" fill="{TEAL}"/>')
        if i % every == 0:
            body.append(_text(cx, top + plot_h + 16, fmt_month(m["month"], short=True),
                              anchor="middle", size=11, fill=MUTED))
    if baseline:
        yb = y(baseline["total"])
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{yb:.1f}" y2="{yb:.1f}" '
                    f'stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>')
        body.append(_text(width - right, yb - 6, f"Baseline {fmt_num(round(baseline['total']))} "
                                                 f"a month", anchor="end", size=12, weight="bold"))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    # Key, in words as well as colour.
    ky = height - 14
    key = [(BLUE, "Children"), (TEAL, "Adults"), (WINDOW, "Campaign live")]
    x = left
    for colour, label in key:
        body.append(f'<rect x="{x}" y="{ky - 10}" width="14" height="12" fill="{colour}" '
                    f'stroke="{MUTED}" stroke-width="0.5"/>')
        body.append(_text(x + 20, ky, label, size=12))
        x += 30 + len(label) * 7
    if baseline:
        body.append(f'<line x1="{x}" x2="{x + 22}" y1="{ky - 4}" y2="{ky - 4}" stroke="{INK}" '
                    f'stroke-width="2" stroke-dasharray="6 4"/>')
        body.append(_text(x + 28, ky, "Baseline (monthly mean)", size=12))
    known = [m for m in months if m["total"] is not None]
    above = sum(1 for m in known if m["change"] is not None and m["change"] > 0)
    desc = (f"Bar chart of safeguarding concerns reported each month from "
            f"{fmt_month(months[0]['month'])} to {fmt_month(months[-1]['month'])}, children and "
            f"adults stacked. ")
    if baseline:
        desc += (f"The dashed line is the baseline of {fmt_num(round(baseline['total']))} a month. "
                 f"{above} of {len(known)} months were above it. ")
    desc += "Shaded bands mark when campaigns were live. The table below gives every figure."
    return _svg(chart_id, width, height, "Safeguarding concerns reported each month", desc, body)


def _month_end(month: str) -> date:
    first = date.fromisoformat(month + "-01")
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _month_pos(day: date, first: date) -> float:
    """Months from `first` to `day`, with the day as a fraction of its month."""
    whole = (day.year - first.year) * 12 + day.month - first.month
    length = (_month_end(f"{day.year:04d}-{day.month:02d}") - day.replace(day=1)).days + 1
    return whole + (day.day - 1) / length


def hbar_chart(rows: Iterable[tuple[str, float, str]], chart_id: str, title: str, desc: str,
               colour: str = BLUE) -> Markup | None:
    """Horizontal bars: (label, value, value text) per row, largest scale first."""
    rows = list(rows)
    if not rows or not any(v for _, v, _ in rows):
        return None
    width, row_h, left, right, top = 760, 30, 190, 190, 8
    height = top * 2 + row_h * len(rows)
    top_v = max(v for _, v, _ in rows) or 1
    body = []
    for i, (label, value, shown) in enumerate(rows):
        y0 = top + i * row_h
        w = (width - left - right) * (value / top_v)
        body.append(_text(left - 10, y0 + row_h / 2 + 4, _clip(label, 26), anchor="end"))
        body.append(f'<rect x="{left}" y="{y0 + 6}" width="{max(w, 1):.1f}" '
                    f'height="{row_h - 12}" fill="{colour}"/>')
        body.append(_text(left + w + 8, y0 + row_h / 2 + 4, shown, size=12))
    return _svg(chart_id, width, height, title, desc, body)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def on_time_chart(campaigns: list[dict[str, Any]], chart_id: str = "chart-on-time") -> Markup | None:
    """Per campaign, a stacked bar of items on time, late and not published."""
    rows = [c for c in campaigns if c["due"]]
    if not rows:
        return None
    width, row_h, left, right, top = 760, 30, 190, 150, 8
    height = top * 2 + row_h * len(rows) + 30
    most = max(c["due"] for c in rows)
    scale = (width - left - right) / most
    body = []
    for i, c in enumerate(rows):
        y0 = top + i * row_h
        body.append(_text(left - 10, y0 + row_h / 2 + 4, _clip(c["title"], 26), anchor="end"))
        x = float(left)
        for n, colour in ((c["on_time"], TEAL), (c["late"], AMBER), (c["not_published"], RED)):
            if n:
                body.append(f'<rect x="{x:.1f}" y="{y0 + 6}" width="{n * scale:.1f}" '
                            f'height="{row_h - 12}" fill="{colour}"/>')
                x += n * scale
        body.append(_text(x + 8, y0 + row_h / 2 + 4,
                          f"{c['on_time']} of {c['due']} on time", size=12))
    ky = height - 10
    x = left
    for colour, label in ((TEAL, "On time"), (AMBER, "Late"), (RED, "Not published")):
        body.append(f'<rect x="{x}" y="{ky - 10}" width="14" height="12" fill="{colour}"/>')
        body.append(_text(x + 20, ky, label))
        x += 34 + len(label) * 7
    total_due = sum(c["due"] for c in rows)
    total_on = sum(c["on_time"] for c in rows)
    desc = (f"Stacked bars per campaign of items due so far: on time, late and not published. "
            f"Overall {total_on} of {total_due} were published on time. The table below gives "
            f"every figure.")
    return _svg(chart_id, width, height, "Campaign items published on time", desc, body)


def bulletin_chart(bulletins: list[dict[str, Any]], chart_id: str = "chart-bulletins") -> Markup | None:
    """Open and click rates of each month's bulletin as paired bars."""
    rows = [b for b in bulletins if b["open_rate"] is not None or b["click_rate"] is not None]
    if not rows:
        return None
    width, height, left, right, top, bottom = 760, 280, 56, 16, 20, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = _nice_max(max(max(b["open_rate"] or 0, b["click_rate"] or 0) for b in rows) * 100 * 1.15)
    slot = plot_w / len(rows)
    bar = min(26.0, slot * 0.34)

    def y(pct: float) -> float:
        return top + plot_h - pct / y_max * plot_h

    body = []
    for i in range(5):
        v = y_max * i / 4
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 8, y(v) + 4, f"{v:g}%", anchor="end", size=11, fill=MUTED))
    for i, b in enumerate(rows):
        cx = left + slot * (i + 0.5)
        for offset, rate, colour in ((-bar, b["open_rate"], BLUE), (0, b["click_rate"], TEAL)):
            if rate is None:
                continue
            yv = y(rate * 100)
            body.append(f'<rect x="{cx + offset:.1f}" y="{yv:.1f}" width="{bar:.1f}" '
                        f'height="{top + plot_h - yv:.1f}" fill="{colour}"/>')
            body.append(_text(cx + offset + bar / 2, yv - 4, fmt_pct(rate, 0), anchor="middle",
                              size=10))
        body.append(_text(cx, top + plot_h + 16, fmt_month(b["month"], short=True),
                          anchor="middle", size=11, fill=MUTED))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
                f'y2="{top + plot_h}" stroke="{MUTED}"/>')
    ky = height - 14
    x = left
    for colour, label in ((BLUE, "Opened (unique opens ÷ delivered)"),
                          (TEAL, "Clicked (unique clicks ÷ delivered)")):
        body.append(f'<rect x="{x}" y="{ky - 10}" width="14" height="12" fill="{colour}"/>')
        body.append(_text(x + 20, ky, label))
        x += 40 + len(label) * 6.6
    opens = [b["open_rate"] for b in rows if b["open_rate"] is not None]
    desc = (f"Paired bars of the e-bulletin's open rate and click rate for {len(rows)} "
            f"sending(s) from {fmt_month(rows[0]['month'])} to {fmt_month(rows[-1]['month'])}.")
    if opens:
        desc += f" Open rates ran from {fmt_pct(min(opens))} to {fmt_pct(max(opens))}."
    desc += " The table below gives every figure."
    return _svg(chart_id, width, height, "E-bulletin open and click rates by month", desc, body)


# -- outputs -------------------------------------------------------------------------------------

def render_html(data: dict[str, Any]) -> str:
    """The whole report as one self-contained HTML page (styles inline, no external requests)."""
    channels = data["channels"]
    charts = {
        "on_time": on_time_chart(data["campaigns"]),
        "channels": hbar_chart(
            [(c["channel"], c["engagements"] or 0,
              f"{fmt_num(c['engagements'])} ({fmt_pct(c['engagement_rate'])} of views)")
             for c in sorted(channels, key=lambda c: -(c["engagements"] or 0))],
            "chart-channels", "Engagements per channel",
            "Horizontal bars of the engagements (likes, shares, replies and clicks) each channel's "
            "posts received in the period, with each channel's engagement rate. Biggest: "
            + (", ".join(f"{c['channel']} {fmt_num(c['engagements'])}" for c in sorted(
                channels, key=lambda c: -(c["engagements"] or 0))[:3]) or "none")
            + ". The table below gives every figure."),
        "bulletins": bulletin_chart(data["bulletins"]),
        "concerns": concerns_chart(data["concerns"]),
    }
    months = data["concerns"]["months"]
    recent = [m for m in months if m["change_pct"] is not None]
    mean_change = (sum(m["change"] for m in recent) / len(recent)) if recent else None
    baseline = data["concerns"]["baseline"]
    template = _env().get_template("report.html.j2")
    return template.render(
        d=data, charts=charts, css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        signed=_signed, mean_change=mean_change,
        mean_change_pct=(mean_change / baseline["total"]) if mean_change is not None and baseline
        and baseline["total"] else None)


def csv_rows(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The report as long-format rows: section, campaign, channel, item, month, measure, value."""
    rows: list[tuple[Any, ...]] = []

    def add(section: str, measures: dict[str, Any], keys: Iterable[str], campaign: str = "",
            channel: str = "", item: str = "", month: str = "") -> None:
        for k in keys:
            rows.append((section, campaign, channel, item, month, k, measures.get(k)))

    add("totals", data["totals"], data["totals"])
    for c in data["campaigns"]:
        add("campaigns", c, [k for k in c if k not in ("campaign", "title", "windows")],
            campaign=c["campaign"])
    for c in data["channels"]:
        add("channels", c, [k for k in c if k != "channel"], channel=c["channel"])
    for p in data["posts"]:
        add("posts", p, ("views", "reach", "likes", "shares", "replies", "clicks",
                         "engagements", "engagement_rate"),
            campaign=p["campaign"], channel=p["channel"], item=p["item"],
            month=p["published"][:7])
    for b in data["bulletins"]:
        add("bulletins", b, [k for k in b if k not in ("month", "item", "channel", "title")],
            campaign="e-bulletin", channel=b["channel"], item=b["item"], month=b["month"])
    add("stories", data["stories"], data["stories"])
    e = data["engagement"]
    add("engagement", e, ("events", "people", "groups"))
    for r in e["records"]:
        add("engagement", r, ("people", "groups"), item=r["event"], month=r["date"])
    s = data["shares"]
    add("shares", s, ("count", "partners", "potential_reach"))
    for r in s["records"]:
        add("shares", r, ("reach",), campaign=r["campaign"], channel=r["channel"],
            item=r["item"], month=r["date"])
    add("spend", data["spend"], ("x_usd",))
    for r in data["spend"]["months"]:
        add("spend", r, ("x_usd",), month=r["month"])
    baseline = data["concerns"]["baseline"]
    if baseline:
        add("concerns", baseline, ("children", "adults", "total", "months_found"),
            item="baseline", month=f"{baseline['from']}..{baseline['to']}")
    for m in data["concerns"]["months"]:
        add("concerns", m, ("children", "adults", "total", "change", "change_pct"),
            month=m["month"])
    standing = data.get("standing", {"counts": {}, "attention": []})
    add("standing", standing["counts"], standing["counts"])
    for r in standing["attention"]:
        rows.append(("standing", r["campaign"], r["channel"], r["item"], r["due"][:7], "status",
                     r["status"]))
    return rows


def render_csv(data: dict[str, Any]) -> str:
    """The report as one long-format CSV for spreadsheets (blank where a value is unknown; text
    that a spreadsheet would run as a formula neutralised)."""
    return to_csv(CSV_COLUMNS, csv_rows(data))


def render_json(data: dict[str, Any]) -> str:
    """The report data as indented JSON for other tools."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
