"""Charts drawn on the server as SVG: no script, no CDN, readable without colour (every chart
has a title, a legend with numbers, and the page shows the same figures as a table).

Only presentation attributes are used (no ``style``), so the console's Content-Security-Policy
holds. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

__all__ = ["PALETTE", "hbars", "lines", "stacked_bars"]

#: Colour-blind safe (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
_W, _H = 640, 260
_L, _R, _T, _B = 44, 12, 16, 40  # margins: left (axis labels), right, top, bottom (dates)


def _nice_max(v: float) -> int:
    """The top of the axis: four gridline steps of 1, 2, 2.5 or 5 times a power of ten."""
    if v <= 4:
        return 4
    magnitude = 10 ** (len(str(int(v / 4))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        step = m * magnitude
        if step * 4 >= v and float(step).is_integer():
            return int(step * 4)
    return int(10 * magnitude * 4)


def _frame(title: str, body: list[str], legend: Sequence[tuple[str, str]], ymax: int) -> Markup:
    parts = [f'<svg class="chart" viewBox="0 0 {_W} {_H + 20 * ((len(legend) + 1) // 2)}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i in range(5):  # gridlines and y labels
        y = _T + (_H - _T - _B) * i / 4
        value = round(ymax * (4 - i) / 4)
        parts.append(f'<line x1="{_L}" x2="{_W - _R}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#ddd" stroke-width="1"/>')
        parts.append(f'<text x="{_L - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#333">{value}</text>')
    parts += body
    for i, (label, colour) in enumerate(legend):
        x = _L + (i % 2) * 290
        y = _H + 6 + 20 * (i // 2)
        label = label if len(label) <= 40 else label[:39] + "…"
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 10}" font-size="12" fill="#111">'
                     f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _x_labels(labels: Sequence[str], x_of: list[float]) -> list[str]:
    every = max(1, len(labels) // 8)
    out = []
    for i, (label, x) in enumerate(zip(labels, x_of, strict=True)):
        last = i == len(labels) - 1
        if last or (i % every == 0 and len(labels) - 1 - i >= every):
            anchor = "end" if i == len(labels) - 1 else "middle"
            out.append(f'<text x="{x:.1f}" y="{_H - _B + 16}" text-anchor="{anchor}" '
                       f'font-size="11" fill="#333">{escape(label)}</text>')
    return out


def stacked_bars(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]],
                 names: Mapping[str, str]) -> Markup:
    """One bar per label (a day), stacked by series (a channel)."""
    keys = list(series)
    totals = [sum(series[k][i] for k in keys) for i in range(len(labels))]
    ymax = _nice_max(max(totals, default=0))
    plot_w, plot_h = _W - _L - _R, _H - _T - _B
    slot = plot_w / max(len(labels), 1)
    body: list[str] = []
    xs = []
    for i, _label in enumerate(labels):
        x = _L + i * slot + slot * 0.15
        xs.append(x + slot * 0.35)
        base: float = _T + plot_h
        for j, k in enumerate(keys):
            v = series[k][i]
            if not v:
                continue
            h = plot_h * v / ymax
            base -= h
            body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" '
                        f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                        f"<title>{escape(labels[i])}: {escape(names.get(k, k))} {v}</title>"
                        "</rect>")
    body += _x_labels(labels, xs)
    legend = [(f"{names.get(k, k)} ({sum(series[k])})", PALETTE[j % len(PALETTE)])
              for j, k in enumerate(keys)]
    return _frame(title, body, legend, ymax)


def lines(title: str, labels: Sequence[str], series: Mapping[str, Sequence[int | None]]
          ) -> Markup:
    """One line per series over the labels (days); None leaves a gap."""
    values = [v for s in series.values() for v in s if v is not None]
    ymax = _nice_max(max(values, default=0))
    plot_w, plot_h = _W - _L - _R, _H - _T - _B
    step = plot_w / max(len(labels) - 1, 1)
    xs = [_L + i * step for i in range(len(labels))]
    body: list[str] = []
    for j, s in enumerate(series.values()):
        colour = PALETTE[j % len(PALETTE)]
        points = [f"{xs[i]:.1f},{_T + plot_h * (1 - v / ymax):.1f}"
                  for i, v in enumerate(s) if v is not None]
        if len(points) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                        f'points="{" ".join(points)}"/>')
        for p in points:
            x, y = p.split(",")
            body.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
    body += _x_labels(labels, xs)
    legend = [(f"{name} ({next((v for v in reversed(s) if v is not None), 0)})",
               PALETTE[j % len(PALETTE)]) for j, (name, s) in enumerate(series.items())]
    return _frame(title, body, legend, ymax)


def hbars(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars with their label and number (reasons, most frequent first)."""
    height = 28 * max(len(items), 1) + 10
    vmax = max((v for _, v in items), default=0) or 1
    parts = [f'<svg class="chart" viewBox="0 0 {_W} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i, (label, v) in enumerate(items):
        y = 5 + 28 * i
        w = (_W - 80) * v / vmax
        parts.append(f'<rect x="0" y="{y}" width="{w:.1f}" height="12" fill="{PALETTE[5]}"/>')
        parts.append(f'<text x="{w + 6:.1f}" y="{y + 11}" font-size="12" fill="#111">{v}'
                     "</text>")
        parts.append(f'<text x="0" y="{y + 25}" font-size="11" fill="#333">'
                     f"{escape(label[:110])}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
