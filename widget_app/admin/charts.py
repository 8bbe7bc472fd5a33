"""Server-made SVG charts and CSV for the insights page: no library, no script, nothing from a CDN.

Each chart is readable without colour: every outcome has its own pattern as well as its own shade,
a legend names them, heat-map cells print their numbers, and the page shows every chart's numbers
as a table too (and `csv_for` offers them as a download).
"""
import csv
import io

from markupsafe import Markup, escape

from widget_app.admin.insights import DAYS, OUTCOMES, Insights

# outcome -> (fill colour, pattern drawn over it): solid, stripes, dots, cross-hatch, outline only
STYLES = {"connected": ("#0b5c4a", None), "missed": ("#9b1c1c", "stripes"), "not answered": ("#b45309", "dots"),
          "failed": ("#374151", "cross"), "other": ("#ffffff", None)}


def _patterns(prefix: str) -> str:
    return (f'<defs><pattern id="{prefix}-stripes" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#9b1c1c"/>'
            '<rect width="2" height="6" fill="#ffffff"/></pattern>'
            f'<pattern id="{prefix}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
            '<rect width="6" height="6" fill="#b45309"/><circle cx="3" cy="3" r="1.4" fill="#ffffff"/></pattern>'
            f'<pattern id="{prefix}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
            '<rect width="6" height="6" fill="#374151"/><path d="M0 0L6 6M6 0L0 6" stroke="#ffffff" stroke-width="1"/>'
            '</pattern></defs>')


def _fill(prefix: str, outcome: str) -> str:
    colour, pattern = STYLES[outcome]
    return f"url(#{prefix}-{pattern})" if pattern else colour


def _nice_max(value: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000):
        if value <= step * 4:
            return step * 4
    return value


def outcome_bars(result: Insights, prefix: str = "daily") -> Markup:
    """Stacked bars per day (or week) by outcome, with a y axis, labels and a legend."""
    periods = result.periods
    width, height, left, top, bottom = 760, 280, 48, 16, 70
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = _nice_max(max([sum(c.values()) for _, _, c in periods] + [1]))
    slot = plot_w / max(1, len(periods))
    bar = max(2.0, slot * 0.7)
    every = max(1, round(len(periods) / 15))  # at most ~15 date labels
    total = sum(result.team.outcomes.values())
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 30}" role="img" '
             f'aria-labelledby="{prefix}-title {prefix}-desc" class="chart-svg">',
             f'<title id="{prefix}-title">Calls per {escape(result.query.group)} by outcome</title>',
             f'<desc id="{prefix}-desc">{total} calls from {result.query.start} to {result.query.end}; '
             'the table below the chart has every number.</desc>', _patterns(prefix)]
    for i in range(5):  # gridlines and the y axis
        value = peak * i // 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#cbd2d9"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#1f2933">{value}</text>')
    for index, (label, _, counts) in enumerate(periods):
        x, y = left + slot * index + (slot - bar) / 2, top + plot_h
        for outcome in OUTCOMES:
            count = counts[outcome]
            if not count:
                continue
            h = plot_h * count / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{_fill(prefix, outcome)}" stroke="#1f2933" stroke-width="0.5">'
                         f'<title>{escape(label)}: {count} {outcome}</title></rect>')
        if index % every == 0:
            cx, ly = left + slot * index + slot / 2, top + plot_h + 12
            parts.append(f'<text x="{cx:.1f}" y="{ly}" font-size="10" fill="#1f2933" text-anchor="end" '
                         f'transform="rotate(-45 {cx:.1f} {ly})">{escape(label.removeprefix("week of "))}</text>')
    x = left
    for outcome in OUTCOMES:  # the legend: swatch (pattern) and name
        parts.append(f'<rect x="{x}" y="{height + 8}" width="14" height="14" fill="{_fill(prefix, outcome)}" '
                     f'stroke="#1f2933"/><text x="{x + 18}" y="{height + 19}" font-size="12" fill="#1f2933">'
                     f'{outcome}</text>')
        x += 30 + 7 * len(outcome)
    parts.append("</svg>")
    return Markup("".join(parts))


def heat_map(result: Insights, prefix: str = "heat") -> Markup:
    """Missed inbound calls by local weekday and hour; each cell prints its count."""
    cell_w, cell_h, left, top = 28, 24, 40, 22
    peak = max([max(row) for row in result.missed_by_hour] + [1])
    width, height = left + 24 * cell_w + 4, top + 7 * cell_h + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{prefix}-title {prefix}-desc" class="chart-svg">',
             f'<title id="{prefix}-title">Missed inbound calls by hour of the week ({escape(result.query.tz_name)})</title>',
             f'<desc id="{prefix}-desc">{result.missed_total} missed calls; each cell shows its count, '
             'darker means more.</desc>']
    for hour in range(24):
        parts.append(f'<text x="{left + hour * cell_w + cell_w / 2}" y="{top - 6}" font-size="10" '
                     f'text-anchor="middle" fill="#1f2933">{hour:02d}</text>')
    for day, hours in enumerate(result.missed_by_hour):
        y = top + day * cell_h
        parts.append(f'<text x="{left - 6}" y="{y + 16}" font-size="11" text-anchor="end" fill="#1f2933">{DAYS[day]}</text>')
        for hour, count in enumerate(hours):
            share = count / peak
            light = round(255 - 200 * share)
            fill = f"rgb({light},{min(255, light + 20)},{light})" if count else "#ffffff"
            ink = "#ffffff" if share > 0.5 else "#1f2933"
            x = left + hour * cell_w
            parts.append(f'<rect x="{x}" y="{y}" width="{cell_w}" height="{cell_h}" fill="{fill}" stroke="#cbd2d9">'
                         f'<title>{DAYS[day]} {hour:02d}:00: {count} missed</title></rect>')
            if count:
                parts.append(f'<text x="{x + cell_w / 2}" y="{y + 16}" font-size="11" text-anchor="middle" '
                             f'fill="{ink}">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


FUNNEL = (("sent", "requests sent"), ("accepted", "accepted"), ("called", "called"), ("connected", "connected"))


def funnel(result: Insights, prefix: str = "funnel") -> Markup:
    """The permission funnel as horizontal bars, each labelled with its count and share of the step before."""
    values = result.team.funnel
    width, row, left = 640, 34, 130
    peak = max(values["sent"], 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {row * 4 + 10}" role="img" '
             f'aria-labelledby="{prefix}-title {prefix}-desc" class="chart-svg">',
             f'<title id="{prefix}-title">Permission funnel</title>',
             f'<desc id="{prefix}-desc">' + ", ".join(f"{values[key]} {words}" for key, words in FUNNEL) + '</desc>']
    previous = None
    for index, (key, words) in enumerate(FUNNEL):
        y, count = 5 + index * row, values[key]
        w = (width - left - 140) * count / peak
        share = f" ({100 * count / previous:.0f}% of the step before)" if previous else ""
        parts.append(f'<text x="{left - 8}" y="{y + 18}" font-size="12" text-anchor="end" fill="#1f2933">{words}</text>'
                     f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 10}" fill="#0b5c4a"/>'
                     f'<text x="{left + w + 6:.1f}" y="{y + 18}" font-size="12" fill="#1f2933">{count}{share}</text>')
        previous = count
    parts.append("</svg>")
    return Markup("".join(parts))


# ---- CSV ---------------------------------------------------------------------------------------

CHARTS = ("daily", "agents", "missed", "funnel")


def _seconds(value):
    return "" if value is None else f"{value:g}"


def csv_for(result: Insights, chart: str) -> str:
    """One chart's numbers as CSV (the same numbers as its table)."""
    out = io.StringIO()
    write = csv.writer(out).writerow
    if chart == "daily":
        write([result.query.group] + list(OUTCOMES) + ["total"])
        for label, _, counts in result.periods:
            write([label.removeprefix("week of ")] + [counts[o] for o in OUTCOMES] + [sum(counts.values())])
    elif chart == "agents":
        write(["agent", "calls"] + list(OUTCOMES) + ["inbound answered", "inbound missed", "answer rate",
                                                    "median seconds to answer", "median talk seconds",
                                                    "requests sent", "accepted", "called", "connected"])
        for row in result.agents:
            write([row.name, row.calls] + [row.outcomes[o] for o in OUTCOMES]
                  + [row.inbound_answered, row.inbound_missed,
                     "" if row.answer_rate is None else f"{row.answer_rate:.4f}",
                     _seconds(row.median_answer), _seconds(row.median_talk)]
                  + [row.funnel[key] for key, _ in FUNNEL])
    elif chart == "missed":
        write(["day"] + [f"{hour:02d}" for hour in range(24)])
        for day, hours in enumerate(result.missed_by_hour):
            write([DAYS[day]] + hours)
    else:
        write(["step", "count"])
        for key, words in FUNNEL:
            write([words, result.team.funnel[key]])
    return out.getvalue()
