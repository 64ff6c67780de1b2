"""Input values: the JSON types an input can have, and each value checked and converted to its
type, with a message naming the input when it is not one.

Every orchestrator passes inputs as text or JSON; a date or a timestamp travels as ISO text
and becomes a ``datetime`` object only where a layer reads it (``InputSpec.python``).
"""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

from laminar.configurations.schedule import parse_moment
from laminar.errors import ConfigurationError

#: JSON Schema type names, which Airflow's ``Param`` and GitHub's inputs also use.
STRING, INTEGER, NUMBER, BOOLEAN, ARRAY, OBJECT = (
    "string", "integer", "number", "boolean", "array", "object",
)  # fmt: skip
TYPES: dict[Any, str] = {
    str: STRING, int: INTEGER, float: NUMBER, bool: BOOLEAN, list: ARRAY, dict: OBJECT,
}  # fmt: skip
#: ``format`` of a string input that holds a date or a timestamp (JSON Schema's names): the
#: datastore and every orchestrator carry ISO text, a layer reads ``datetime`` objects.
DATE, DATE_TIME = "date", "date-time"
FORMATS: dict[Any, str] = {datetime.date: DATE, datetime.datetime: DATE_TIME}
#: What a trigger form says of an input without a description, by format.
SUMMARIES = {DATE: "date input (YYYY-MM-DD)", DATE_TIME: "date-time input (ISO 8601)"}


def convert(name: str, kind: str, value: Any, parse: bool = True) -> Any:
    text = value if isinstance(value, str) and parse else None
    if kind == STRING:
        if not isinstance(value, str):
            raise _wrong(name, kind, value)
        return value
    if text is not None:  # an orchestrator passes text: parse it as JSON for the other types
        try:
            value = json.loads(text)
        except ValueError:
            if kind == BOOLEAN and text.lower() in ("true", "false"):
                value = text.lower() == "true"
            else:
                raise _wrong(name, kind, text) from None
    if kind == BOOLEAN and isinstance(value, bool):
        return value
    if kind == INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise _wrong(name, kind, value)
        return value
    if kind == ARRAY and isinstance(value, (list, tuple)):
        return json_value(name, list(value))
    if kind == OBJECT and isinstance(value, dict):
        return json_value(name, value)
    raise _wrong(name, kind, value)


def moment_text(name: str, format: str, value: Any) -> str:
    """A date or date-time input's ``value`` (a ``datetime`` object or ISO text) as canonical
    ISO text, the form the datastore and orchestrators carry."""
    if isinstance(value, str):
        parsed = parse_moment(value)
        if parsed is not None and (format == DATE_TIME or len(value.strip()) == 10):
            value = parsed if format == DATE_TIME else parsed.date()
    if format == DATE and type(value) is datetime.date:
        return value.isoformat()
    if format == DATE_TIME and isinstance(value, datetime.datetime):
        return value.isoformat()
    example = "2026-11-25" if format == DATE else "2026-11-25T03:00:00+01:00"
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    raise ConfigurationError(
        f"Input {name!r} must be a {format} such as {example} (ISO 8601), not {shown}."
    )


def _wrong(name: str, kind: str, value: Any) -> ConfigurationError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return ConfigurationError(f"Input {name!r} must be {_ARTICLE[kind]}, not {shown}.")


_ARTICLE = {
    STRING: "a string", INTEGER: "an integer", NUMBER: "a number", BOOLEAN: "true or false",
    ARRAY: "a list", OBJECT: "a dict",
}  # fmt: skip


def json_value(name: str, value: Any) -> Any:
    """``value`` if it is JSON-compatible (str, int, float, bool, None, lists and dicts of
    those with string keys); a ``ConfigurationError`` naming the input otherwise."""
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"Input {name!r} is {type(value).__name__} {value!r:.60}, which is not a JSON "
            "value: inputs are str, int, float, bool, lists and dicts of those, so that every "
            "orchestrator can pass them. Pass a path or a name and load the data in a layer."
        ) from None
    if json.loads(text) != value:
        raise ConfigurationError(
            f"Input {name!r} does not survive JSON unchanged (dict keys must be strings, "
            "tuples become lists); pass plain lists and dicts with string keys."
        )
    return value
