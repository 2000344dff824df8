"""The dashboard's charts as geometry for server-rendered SVG
(templates/overview/_charts.html draws them): plain numbers, no HTTP, no
script. Each bar carries the link of the list it counts."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

WIDTH = 420  # the SVG viewBox width; it scales to its box
# Okabe-Ito: told apart with the common colour-vision deficiencies, and in print.
CATEGORY_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")
STAGE_COLOURS = {
    "not_started": "#9aa3ad", "preparing": "#e0b04a", "self_assessment": "#d49a1f", "submitted": "#b97f0a",
    "assessor_visit": "#946300", "accredited": "#1d6b36", "not_accredited": "#a4161a", "expired": "#6e0f12",
}


def href(path: str, **params: object) -> str:
    """A list's link with its filters (empty ones left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "", False)})
    return f"{path}?{query}" if query else path


def nice_max(value: int) -> int:
    """The axis top: 1, 2, 5 or 10 times a power of ten, at least ``value``."""
    value = max(value, 1)
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def registrations(series: list[dict], *, kecamatan: str | None) -> dict:
    """Grouped bars per month: Tanda Daftar issued, validity ending."""
    top, bottom, left = 18, 40, 8
    height = 200
    plot = height - top - bottom
    top_value = nice_max(max([max(r["issued"], r["expired"]) for r in series] or [0]))
    slot = (WIDTH - left) / max(len(series), 1)
    bar = min(16.0, slot / 2 - 3)
    months = []
    for i, row in enumerate(series):
        x0 = left + i * slot + (slot - 2 * bar - 2) / 2
        start = date(int(row["month"][:4]), int(row["month"][5:]), 1)
        bars = []
        for j, key in enumerate(("issued", "expired")):
            value = row[key]
            h = plot * value / top_value
            bars.append({
                "key": key, "value": value, "x": round(x0 + j * (bar + 2), 1), "y": round(top + plot - h, 1),
                "width": round(bar, 1), "height": round(h, 1),
                "href": href("/lks", kecamatan=kecamatan, **{"registered_month" if key == "issued" else "valid_until_month": row["month"]}),
            })
        months.append({"month": row["month"], "start": start, "x": round(left + i * slot + slot / 2, 1), "bars": bars})
    return {"width": WIDTH, "height": height, "baseline": top + plot, "left": left, "top_value": top_value, "months": months}


def incidents(series: list[dict], categories: list[str], *, kecamatan: str | None) -> dict:
    """Stacked bars per year, one segment per category."""
    top, bottom, left = 20, 26, 8
    height = 200
    plot = height - top - bottom
    top_value = nice_max(max([r["total"] for r in series] or [0]))
    slot = (WIDTH - left) / max(len(series), 1)
    bar = min(56.0, slot * 0.6)
    colours = dict(zip(categories, CATEGORY_COLOURS))
    years = []
    for i, row in enumerate(series):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot
        segments = []
        for category in categories:
            value = row["categories"].get(category, 0)
            if not value:
                continue
            h = plot * value / top_value
            y -= h
            segments.append({
                "category": category, "value": value, "colour": colours[category], "y": round(y, 1), "height": round(h, 1),
                "href": href("/incidents", status="all", year=row["year"], category=category, kecamatan=kecamatan),
            })
        years.append({
            "year": row["year"], "total": row["total"], "x": round(x, 1), "width": round(bar, 1), "centre": round(x + bar / 2, 1),
            "top": round(y, 1), "segments": segments,
            "href": href("/incidents", status="all", year=row["year"], kecamatan=kecamatan),
        })
    present = [c for c in categories if any(r["categories"].get(c) for r in series)]
    table = [
        {"category": c, "cells": [
            {"year": r["year"], "value": r["categories"].get(c, 0),
             "href": href("/incidents", status="all", year=r["year"], category=c, kecamatan=kecamatan)} for r in series
        ]} for c in categories
    ]
    return {
        "width": WIDTH, "height": height, "baseline": top + plot, "years": years,
        "legend": [{"category": c, "colour": colours[c]} for c in present], "table": table,
    }


def stages(progress: dict, *, kecamatan: str | None) -> dict:
    """Horizontal bars: LKS at each accreditation stage."""
    row_height, label_width, right = 26, 160, 36
    items = list(progress["stages"].items())
    top_value = max([v for _, v in items] or [0]) or 1
    span = WIDTH - label_width - right
    rows = []
    for i, (stage, value) in enumerate(items):
        rows.append({
            "stage": stage, "value": value, "y": i * row_height + 4, "width": round(span * value / top_value, 1),
            "colour": STAGE_COLOURS.get(stage, "#9aa3ad"),
        })
    return {
        "width": WIDTH, "height": len(items) * row_height + 6, "label_width": label_width, "bar_height": row_height - 8,
        "rows": rows, "href": href("/accreditation", kecamatan=kecamatan),
    }


def charts(snap: dict) -> dict:
    kecamatan = snap.get("kecamatan")
    return {
        "registrations": registrations(snap["registrations_by_month"], kecamatan=kecamatan),
        "incidents": incidents(snap["incidents_by_year"], snap["incident_categories"], kecamatan=kecamatan),
        "stages": stages(snap["accreditation_progress"], kecamatan=kecamatan),
    }
