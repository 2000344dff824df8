"""Score and grade of an assessment: pure functions, no database.

The scale: each indicator is scored on the instrument's scale (shipped: 1–4,
1 = not in place, 4 = working, documented and reviewed). A score is placed
on 0–100 linearly from the scale's bottom to its top (1 → 0, 2 → 33.3,
3 → 66.7, 4 → 100), so "nothing in place" counts as nothing. An aspect's
score is the weighted mean of its indicators; the total is the weighted
mean of the aspects (aspect weights). The total and the grade exist only
when every indicator is scored; until then the missing ones are listed.
Arithmetic is exact (fractions), so a total of exactly a threshold reaches
it; figures are rounded to one decimal only for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

GRADES = ("A", "B", "C")
# SIGAP's defaults; the national thresholds are BALKS's to set (admins change
# these on the settings page).
DEFAULT_THRESHOLDS = {"A": 85, "B": 70, "C": 55}
DEFAULT_VALIDITY_YEARS = {"A": 5, "B": 3, "C": 2}


@dataclass
class AspectResult:
    code: str
    title: dict
    weight: int
    score: Fraction | None  # None: nothing scored yet
    scored: int
    indicators: int
    missing: list[str] = field(default_factory=list)

    @property
    def display(self) -> float | None:
        return None if self.score is None else round(float(self.score), 1)


@dataclass
class Result:
    aspects: list[AspectResult]
    total: Fraction | None  # None while any indicator is missing
    grade: str | None  # None: incomplete, or below the lowest threshold
    missing: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def display(self) -> float | None:
        return None if self.total is None else round(float(self.total), 1)

    def as_dict(self) -> dict:
        return {
            "total": self.display, "grade": self.grade, "complete": self.complete, "missing": list(self.missing),
            "aspects": [
                {"code": a.code, "title": a.title, "weight": a.weight, "score": a.display, "scored": a.scored,
                 "indicators": a.indicators, "missing": list(a.missing)}
                for a in self.aspects
            ],
        }


def normalise(value: int, scale: dict) -> Fraction:
    low, high = int(scale["min"]), int(scale["max"])
    return Fraction(value - low, high - low) * 100


def valid_score(value: object, scale: dict) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and int(scale["min"]) <= value <= int(scale["max"])


def grade_for(total: Fraction | float | None, thresholds: dict[str, int | float]) -> str | None:
    """The best grade whose threshold ``total`` reaches (≥), or None."""
    if total is None:
        return None
    for grade in GRADES:
        if Fraction(str(thresholds[grade])) <= Fraction(total):
            return grade
    return None


def compute(definition: dict, scores: dict[str, int | None], thresholds: dict[str, int | float]) -> Result:
    """``definition``: the instrument's ``{"scale", "aspects": [...]}``;
    ``scores``: ``{indicator code: score}`` (missing or None: not scored)."""
    scale = definition["scale"]
    aspects: list[AspectResult] = []
    missing: list[str] = []
    for aspect in definition["aspects"]:
        weighted = Fraction(0)
        weight_sum = 0
        result = AspectResult(aspect["code"], aspect["title"], int(aspect["weight"]), None, 0, len(aspect["indicators"]))
        for indicator in aspect["indicators"]:
            value = scores.get(indicator["code"])
            if not valid_score(value, scale):
                result.missing.append(indicator["code"])
                continue
            weighted += normalise(value, scale) * int(indicator["weight"])
            weight_sum += int(indicator["weight"])
            result.scored += 1
        if weight_sum:
            result.score = weighted / weight_sum
        missing.extend(result.missing)
        aspects.append(result)
    total = None
    if not missing:
        aspect_weights = sum(a.weight for a in aspects)
        total = sum((a.score * a.weight for a in aspects), Fraction(0)) / aspect_weights
    return Result(aspects, total, grade_for(total, thresholds), missing)


def indicators_of(definition: dict) -> list[dict]:
    """Every indicator in order, with its aspect's code and title."""
    return [
        {**indicator, "aspect": aspect["code"], "aspect_title": aspect["title"]}
        for aspect in definition["aspects"]
        for indicator in aspect["indicators"]
    ]


def weakest(definition: dict, scores: dict[str, int | None], limit: int = 5) -> list[dict]:
    """The lowest-scored indicators (ties: the heavier first, then in
    instrument order); unscored ones are not included."""
    scale = definition["scale"]
    rows = [
        {**ind, "score": scores[ind["code"]], "position": n}
        for n, ind in enumerate(indicators_of(definition))
        if valid_score(scores.get(ind["code"]), scale)
    ]
    rows.sort(key=lambda r: (r["score"], -int(r["weight"]), r["position"]))
    return [{k: v for k, v in r.items() if k != "position"} for r in rows[:limit]]
