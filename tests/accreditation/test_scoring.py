"""Score and grade: the scale's ends, weights, threshold boundaries (exact:
a total equal to a threshold reaches it), missing indicators, weakest."""

from __future__ import annotations

from fractions import Fraction

from accreditation.instruments.services import read_shipped
from accreditation.scoring import DEFAULT_THRESHOLDS, compute, grade_for, weakest

SCALE = {"min": 1, "max": 4}
T = {"A": 85, "B": 70, "C": 55}


def definition(*aspects) -> dict:
    return {"scale": SCALE, "aspects": list(aspects)}


def aspect(code: str, weight: int, *indicators: tuple[str, int]) -> dict:
    return {"code": code, "weight": weight, "title": {"id": code, "en": code},
            "indicators": [{"code": c, "weight": w, "text": {"id": c, "en": c}} for c, w in indicators]}


def test_the_scale_runs_from_nothing_to_full_marks():
    d = definition(aspect("P", 1, ("P1", 1)))
    assert compute(d, {"P1": 1}, T).total == 0
    assert compute(d, {"P1": 4}, T).total == 100
    assert compute(d, {"P1": 3}, T).total == Fraction(200, 3)


def test_weights_of_indicators_and_aspects_count():
    d = definition(aspect("P", 3, ("P1", 3), ("P2", 1)), aspect("S", 1, ("S1", 1)))
    result = compute(d, {"P1": 4, "P2": 1, "S1": 1}, T)
    assert result.aspects[0].score == 75  # (100*3 + 0*1) / 4
    assert result.aspects[1].score == 0
    assert result.total == Fraction(225, 4)  # (75*3 + 0) / 4 = 56.25
    assert result.grade == "C"
    # The same scores with the weights the other way round: a different grade.
    d2 = definition(aspect("P", 1, ("P1", 1), ("P2", 3)), aspect("S", 3, ("S1", 1)))
    assert compute(d2, {"P1": 4, "P2": 1, "S1": 1}, T).grade is None


def test_grade_boundaries_are_inclusive_and_exact():
    assert grade_for(Fraction(85), T) == "A"
    assert grade_for(Fraction(8499, 100), T) == "B"
    assert grade_for(70, T) == "B"
    assert grade_for(Fraction(6999, 100), T) == "C"
    assert grade_for(55, T) == "C"
    assert grade_for(Fraction(5499, 100), T) is None
    assert grade_for(100, T) == "A" and grade_for(0, T) is None
    # A total that floating point would put a hair under 70: 3 indicators
    # scoring 100, 100, 10 → exactly 70 with fractions.
    d = {"scale": {"min": 0, "max": 100}, "aspects": [aspect("X", 1, ("a", 1), ("b", 1), ("c", 1))]}
    assert compute(d, {"a": 100, "b": 100, "c": 10}, T).grade == "B"
    assert grade_for(Fraction(85), {"A": 85.5, "B": 70, "C": 55}) == "B"


def test_missing_indicators_mean_no_total_and_are_named():
    d = definition(aspect("P", 1, ("P1", 1), ("P2", 1)), aspect("S", 1, ("S1", 1)))
    result = compute(d, {"P1": 4, "P2": None, "S1": 9}, T)  # 9 is off the scale: not scored
    assert result.total is None and result.grade is None and not result.complete
    assert result.missing == ["P2", "S1"]
    assert result.aspects[0].score == 100 and result.aspects[0].missing == ["P2"]
    assert result.aspects[1].score is None and result.aspects[1].scored == 0
    assert result.as_dict()["aspects"][1]["missing"] == ["S1"]


def test_the_shipped_instrument_scores_and_names_its_weakest():
    [shipped] = read_shipped()
    d = {"scale": shipped["scale"], "aspects": shipped["aspects"]}
    codes = [i["code"] for a in shipped["aspects"] for i in a["indicators"]]
    assert {a["code"] for a in shipped["aspects"]} == {"PRG", "SDM", "ORG", "SAR", "HSL"}
    assert compute(d, dict.fromkeys(codes, 4), DEFAULT_THRESHOLDS).grade == "A"
    assert compute(d, dict.fromkeys(codes, 3), DEFAULT_THRESHOLDS).grade == "C"  # 66.7: at least 55, under 70
    scores = dict.fromkeys(codes, 4) | {"SDM3": 1, "SAR2": 2, "ORG3": 1}
    low = weakest(d, scores, limit=3)
    assert [r["code"] for r in low] == ["SDM3", "ORG3", "SAR2"]  # ties: heavier first, then instrument order
