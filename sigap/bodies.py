"""What the typed JSON request bodies of ``/api/v1`` share.

Bodies are msgspec Structs (Litestar decodes them natively, so the OpenAPI
document describes each one). They check the JSON *types* only: a number
where text belongs, a list where a count belongs, an id past the database
column. The services stay the authority for everything else (ranges,
control characters, lengths, allowed values), with their own messages.

Optional fields default to ``UNSET``, so "not sent" differs from ``null``;
:func:`sent` gives the fields the client did send. A body that does not
decode is answered by ``sigap.error_pages.error_handler`` with 422 naming the field
(:func:`field_problem` words the message)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from sigap.i18n import _

__all__ = ["UNSET", "UnsetType", "Id", "Int32", "Count", "one_of", "sent", "field_problem"]

INT32_MAX = 2**31 - 1  # ids and versions are 32-bit columns on PostgreSQL

Id = Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)]
Int32 = Annotated[int, msgspec.Meta(ge=-INT32_MAX, le=INT32_MAX)]
Count = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]  # the service sets the real upper bound


def one_of(values: Any, description: str = "") -> msgspec.Meta:
    """A text field whose allowed values the OpenAPI document lists; the
    service still decides (and words the message for anything else)."""
    schema: dict[str, Any] = {"extra": {"enum": list(values)}}
    if description:
        schema["description"] = description
    return msgspec.Meta(extra_json_schema=schema)


def sent(body: msgspec.Struct) -> dict[str, Any]:
    """The fields the client sent, as plain JSON values (nested bodies as
    dicts, dates as ISO text): ``UNSET`` fields are left out."""
    return msgspec.to_builtins(body)


# --- messages for bodies that do not decode --------------------------------------

_PATH_PART = re.compile(r"\[(\d+)\]")
_EXPECTED = re.compile(r"Expected `([^`]+)`(?: (<=|>=|<|>) (-?\d+))?")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"Object contains unknown field `([^`]+)`")
_LENGTH = re.compile(r"Expected `(?:str|array)` of length (<=|>=) (\d+)")


def field_problem(key: str, message: str) -> tuple[str, str]:
    """Litestar's report of one body field that did not decode (``key`` like
    ``present[0].user_id``, ``message`` msgspec's English) → the house field
    name (``present.0.user_id``, ``body`` for the whole body) and a
    translated message."""
    name = _PATH_PART.sub(r".\1", key).replace("[...]", "").strip(".")
    if name in ("", "data"):
        name = ""
    if missing := _MISSING.search(message):
        return ".".join(p for p in (name, missing.group(1)) if p), _("Required.")
    if unknown := _UNKNOWN.search(message):
        return ".".join(p for p in (name, unknown.group(1)) if p), _("This field is not accepted here.")
    name = name or "body"
    if "encoded date" in message or "encoded datetime" in message:
        return name, _("Give a date and time with its zone, for example 2025-01-31T09:00:00+07:00.") if "datetime" in message else _(
            "Dates must be written as YYYY-MM-DD."
        )
    if length := _LENGTH.search(message):
        if length.group(1) == "<=":
            return name, _("At most %(n)s characters.", n=length.group(2))
        return name, _("Required.")
    if "Invalid enum value" in message:
        return name, _("Choose one of the allowed values.")
    expected = _EXPECTED.search(message)
    if expected is None:
        return name, _("This value has the wrong type.")
    types, bound, limit = expected.groups()
    kinds = [t.split(" ")[0] for t in types.split(" | ") if t != "null"]
    kind = kinds[0] if len(kinds) == 1 else ""
    if bound in ("<=", "<"):
        return name, _("Must be %(n)s or less.", n=limit)
    if bound in (">=", ">"):
        return name, _("Must be %(n)s or more.", n=limit)
    return name, {
        "int": _("Enter a whole number."),
        "float": _("Enter a number."),
        "str": _("Enter text."),
        "bool": _("Answer true or false."),
        "array": _("Give a list."),
        "object": _("Give an object with named fields."),
        "date": _("Dates must be written as YYYY-MM-DD."),
        "datetime": _("Give a date and time with its zone, for example 2025-01-31T09:00:00+07:00."),
    }.get(kind, _("This value has the wrong type."))
