#!/usr/bin/env python3
"""Plots docs/performance.csv (written by benches/compare.sh) as an SVG, with no dependencies.

    python3 scripts/plot-performance.py docs/performance.csv docs/performance.svg

Two log-log panels: wall time and peak memory against the number of Gloo objects, one line
per tool and task (a single dot where only one size was measured). Dashed circles mark the targets of the issues.
"""

import csv
import math
import sys

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def load(path):
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = f"{row['tool']} {row['task']}"
            n = int(row["objects"])
            t = float(row["mean_s"]) if row["mean_s"] else None
            m = float(row["peak_rss_mib"]) if row["peak_rss_mib"] else None
            series.setdefault(key, []).append((n, t, m))
    return {k: sorted(v) for k, v in series.items()}


def log_ticks(lo, hi):
    ticks = []
    e = math.floor(math.log10(lo))
    while 10**e <= hi * 1.0001:
        if 10**e >= lo / 1.0001:
            ticks.append(10**e)
        e += 1
    return ticks


def fmt(v, unit):
    if unit == "s":
        return f"{v:g} s" if v >= 1 else f"{v * 1000:g} ms"
    return f"{v:g} MiB" if v < 1024 else f"{v / 1024:.3g} GiB"


def panel(out, x0, y0, w, h, series, idx, unit, title, targets):
    pts = [(n, p[idx]) for s in series.values() for p in s for n in [p[0]] if p[idx]]
    if not pts:
        return
    xs = [n for n, _ in pts]
    ys = [v for _, v in pts] + [t for _, t, _ in targets]
    xlo, xhi = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
    ylo, yhi = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))

    def px(n):
        return x0 + (math.log10(n) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo)) * w

    def py(v):
        return y0 + h - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * h

    out.append(f'<text x="{x0 + w / 2}" y="{y0 - 12}" text-anchor="middle" font-weight="bold">{title}</text>')
    out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#444"/>')
    for t in log_ticks(xlo, xhi):
        out.append(f'<line x1="{px(t):.1f}" y1="{y0}" x2="{px(t):.1f}" y2="{y0 + h}" stroke="#ddd"/>')
        out.append(f'<text x="{px(t):.1f}" y="{y0 + h + 16}" text-anchor="middle">{t:,}</text>')
    for t in log_ticks(ylo, yhi):
        out.append(f'<line x1="{x0}" y1="{py(t):.1f}" x2="{x0 + w}" y2="{py(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{fmt(t, unit)}</text>')
    out.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle">Gloo objects</text>')
    for label, n, v in [(l, n, v) for n, v, l in targets]:
        if xlo <= n <= xhi:
            out.append(
                f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="5" fill="none" stroke="#000" stroke-dasharray="2,2"/>'
                f'<text x="{px(n) + 7:.1f}" y="{py(v) - 6:.1f}" font-size="10" fill="#555">{label}</text>'
            )
    for i, (key, s) in enumerate(sorted(series.items())):
        c = COLORS[i % len(COLORS)]
        p = [(px(n), py(r[idx - 1])) for n, *r in s if r[idx - 1]]
        if not p:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in p)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in p:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"/>')


def main():
    src, dst = sys.argv[1], sys.argv[2]
    series = load(src)
    w, h = 420, 300
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w + 400}" height="{h + 110}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    time_targets = [(10_000, 1.0, "target 1 s"), (100_000, 10.0, "target 10 s")]
    mem_targets = [(10_000, 300.0, "target 300 MiB"), (100_000, 1024.0, "target 1 GiB")]
    panel(out, 80, 40, w, h, series, 1, "s", "Wall time (mean)", time_targets)
    panel(out, 80 + w + 100, 40, w, h, series, 2, "MiB", "Peak memory (max RSS)", mem_targets)
    lx = 2 * w + 190
    for i, key in enumerate(sorted(series)):
        c = COLORS[i % len(COLORS)]
        y = 50 + 20 * i
        out.append(f'<line x1="{lx}" y1="{y}" x2="{lx + 20}" y2="{y}" stroke="{c}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 26}" y="{y + 4}">{key}</text>')
    out.append("</svg>")
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
