"""The registry's badges and filter options as template globals: plain
functions returning Markup. A Jinja macro call costs tens of microseconds
(a new frame, a context, its arguments checked); the LKS list shows four
badges on each of its rows and the filter form a hundred options, on every
view. ``templates/registry/_badges.html`` exports these under the names its
macros had, so every template shows the same HTML from one definition."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from operator import itemgetter

from markupsafe import Markup, escape

from registry.labels import ACCREDITATION_LABELS, DOC_STATE_LABELS, RISK_LABELS, STATUS_LABELS
from sigap.i18n import choice_label, get_locale, gettext

STATUS_CLASSES = {
    "registered": "ok", "applied": "warn", "document_check": "warn", "field_verification": "warn",
    "expired": "danger", "suspended": "danger", "revoked": "danger", "unregistered": "danger", "closed": "muted",
}
ACCREDITATION_CLASSES = {"accredited": "ok", "in_process": "warn", "expired": "danger"}
RISK_CLASSES = {"high": "danger", "medium": "warn", "low": "ok"}
DOC_STATE_CLASSES = {
    "verified": "ok", "pending": "warn", "rejected": "danger", "missing": "danger", "expired": "danger", "superseded": "muted",
}


def _key(value: object) -> object:
    """A str-enum member as its value (the caches' keys; labels and classes
    are the same for both)."""
    return getattr(value, "value", value)


@lru_cache(maxsize=1024)
def _badge(locale: str, kind: str, value: object, grade: object = None) -> Markup:
    if kind == "status":
        cls, label = STATUS_CLASSES.get(value, "muted"), choice_label(STATUS_LABELS, value)
    elif kind == "accreditation":
        cls, label = ACCREDITATION_CLASSES.get(value, "muted"), choice_label(ACCREDITATION_LABELS, value)
        if grade and value == "accredited":
            label = f"{label} ({grade})"
    elif kind == "doc_state":
        cls, label = DOC_STATE_CLASSES.get(value, "muted"), choice_label(DOC_STATE_LABELS, value)
    else:  # risk
        cls, label = RISK_CLASSES.get(value, ""), choice_label(RISK_LABELS, value)
    return Markup(f'<span class="badge badge-{escape(cls)}">{escape(label)}</span>')


def _cached(kind: str, value: object, grade: object = None) -> Markup:
    try:
        return _badge(get_locale(), kind, _key(value), grade)
    except TypeError:  # an unhashable value: not a choice, shown as text
        return _badge.__wrapped__(get_locale(), kind, value, grade)


def status_badge(status: object) -> Markup:
    return _cached("status", status)


def accreditation_badge(status: object, grade: object = None) -> Markup:
    return _cached("accreditation", status, grade)


EMPTY = Markup("")


def risk_badge(risk: object) -> Markup:
    return _cached("risk", risk) if risk else EMPTY


def incident_badge(flag: object) -> Markup:
    if not flag:
        return EMPTY
    return Markup(f'<span class="badge badge-danger badge-strong">{escape(gettext("Open incident"))}</span>')


def doc_state(state: object) -> Markup:
    return _cached("doc_state", state)


# --- the filter form's options -------------------------------------------------


@lru_cache(maxsize=64)
def _options(items: tuple[tuple, ...], parent: bool) -> tuple[dict, tuple[str, ...]]:
    """Each item's ``<option`` opening (value and data-parent) and its
    ``>label</option>`` rest, kept by content: the region lists are the
    same on every view (a change of names makes a new key, never a stale
    hit)."""
    index: dict = {}
    parts: list[str] = []
    for item in items:
        index.setdefault(item[0], len(parts))
        head = f'<option value="{escape(item[0])}"'
        if parent:
            head += f' data-parent="{escape(item[2])}"'
        parts.append(head)
        parts.append(f">{escape(item[1])}</option>")
    return index, tuple(parts)


def _render(items: tuple[tuple, ...], selected: object, parent: bool = False) -> Markup:
    try:
        index, parts = _options(items, parent)
    except TypeError:  # an unhashable item: rendered, not kept
        index, parts = _options.__wrapped__(items, parent)
    try:
        at = index.get(selected)
    except TypeError:  # unhashable: equal to no value
        at = None
    if at is None:
        return Markup("".join(parts))
    # Only the first option with that value is marked (values are unique).
    return Markup("".join(parts[: at + 1]) + " selected" + "".join(parts[at + 1 :]))


def region_options(rows: Iterable[dict], selected: object, *, parent: bool = False) -> Markup:
    """``<option>``s of region rows (code, name[, parent_code as
    data-parent]), the one whose code is ``selected`` marked selected."""
    columns = _WITH_PARENT if parent else _CODE_NAME
    return _render(tuple(map(columns, rows)), selected, parent)


def choice_options(pairs: Iterable[tuple[str, str]], selected: object) -> Markup:
    """``<option>``s of (value, label) pairs, ``selected`` marked."""
    # Labels escaped first: a Markup label and a str label of the same text
    # are equal keys but not the same HTML.
    return _render(tuple((v, escape(t)) for v, t in pairs), selected)


_CODE_NAME = itemgetter("code", "name")
_WITH_PARENT = itemgetter("code", "name", "parent_code")


def region_name(code: object, names: dict) -> object:
    """``code | region_name(names)``: the name of a region code in a
    ``regions.region_names`` answer, the code itself when not there."""
    return names.get(code, code)


# The same as filters, for long loops (a filter is called directly, a
# global through Jinja's Context.call: about a microsecond more each).
TEMPLATE_FILTERS = {
    "status_badge": status_badge,
    "accreditation_badge": accreditation_badge,
    "risk_badge": risk_badge,
    "incident_badge": incident_badge,
    "doc_state": doc_state,
    "region_name": region_name,
}

TEMPLATE_GLOBALS = {
    "status_badge": status_badge,
    "accreditation_badge": accreditation_badge,
    "risk_badge": risk_badge,
    "incident_badge": incident_badge,
    "doc_state": doc_state,
    "region_options": region_options,
    "choice_options": choice_options,
}
