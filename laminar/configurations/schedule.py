"""``Schedule`` and ``LogicalDate``: a flow that runs every night and processes that night's
partition, declared once in the flow and rendered by each target (Argo ``CronWorkflow``,
Airflow ``schedule``, GitHub ``on.schedule``).

``LogicalDate()`` is an input's default bound to the run's logical date: the orchestrator's
(``LAMINAR_LOGICAL_DATE``: Airflow's ``ds``, Argo's scheduled or creation time), else today
in the schedule's timezone. It is committed once with the other inputs, so retries and
resumes see the same date.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from laminar.errors import ConfigurationError

#: Cron presets every target understands once spelled as the cron they stand for (GitHub
#: takes no presets).
PRESETS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
#: Each cron field: its name, its range and the names it takes.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {d: i for i, d in enumerate(_DAYS)}),
)
_ITEM = re.compile(r"(\*|[0-9a-z]+(-[0-9a-z]+)?)(/[0-9]+)?")


def cron_of(expression: str) -> str:
    """``expression`` as five cron fields (a preset spelled out), or ``ConfigurationError``
    naming the field that is wrong."""
    text = PRESETS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise ConfigurationError(
            f"Schedule({expression!r}): a schedule is five cron fields (minute hour day-of-month "
            f"month day-of-week, such as '0 3 * * *') or one of {', '.join(PRESETS)}."
        )
    for value, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        for item in value.lower().split(","):
            match = _ITEM.fullmatch(item)
            numbers = [] if match is None else re.split(r"-", match.group(1))
            try:
                values = [names[n] if n in names else int(n) for n in numbers if n != "*"]
            except ValueError:
                values = [-1]
            step = match.group(3) if match else None
            if match is None or any(not low <= v <= high for v in values) or step == "/0":
                raise ConfigurationError(
                    f"Schedule({expression!r}): the {name} field {value!r} is not valid: it "
                    f"takes {low}-{high}, '*', ranges (a-b), lists (a,b) and steps (*/n)."
                )
    return " ".join(fields)


@dataclass(frozen=True)
class Schedule:
    """``Schedule("0 3 * * *", timezone="Europe/Paris", catchup=True)``: when the flow runs.

    ``timezone`` is an IANA name (default UTC); ``catchup`` runs the intervals missed since
    the schedule started (Airflow; Argo runs the last missed one; GitHub none).
    """

    cron: str
    timezone: str | None = None
    catchup: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.cron, str):
            raise ConfigurationError(f"Schedule({self.cron!r}) takes a cron string.")
        object.__setattr__(self, "cron", cron_of(self.cron))
        if self.timezone is not None:
            zone(self.timezone)
        if not isinstance(self.catchup, bool):
            raise ConfigurationError(f"Schedule(catchup={self.catchup!r}) is True or False.")


def zone(name: str) -> datetime.tzinfo:
    """The timezone named ``name``, or ``ConfigurationError``."""
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigurationError(
            f"Schedule(timezone={name!r}) is not a timezone name such as 'Europe/Paris' or 'UTC'."
        ) from None


class LogicalDate:
    """An input default bound to the run's logical date (``"2026-11-25"``):
    ``date: str = LogicalDate()``."""

    def __repr__(self) -> str:
        return "LogicalDate()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LogicalDate)

    def __hash__(self) -> int:
        return hash(LogicalDate)


#: ISO 8601 as every Python from 3.10 reads it: a date, optionally a time to the second,
#: millisecond or microsecond, optionally ``Z`` or an offset.
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{3}|\.\d{6})?)?)?(Z|[+-]\d{2}:\d{2})?"
)


def parse_moment(text: str) -> datetime.datetime | None:
    """``text`` (an ISO date or timestamp) as a datetime (a date is its midnight); None if it
    is not one. The same on every Python: 3.11 reads more forms than 3.10 would."""
    text = text.strip()
    if not _ISO.fullmatch(text):
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:  # matched the form, but not a day (2026-02-30)
        return None


def logical_date(handed_over: str, timezone: str | None, moment: bool = False) -> str:
    """The run's logical date as ``YYYY-MM-DD`` (or, with ``moment``, its logical time as an
    ISO timestamp): ``handed_over`` (an ISO date or timestamp from the orchestrator) in
    ``timezone``, else now there (UTC without one)."""
    tz = zone(timezone) if timezone else datetime.timezone.utc
    if handed_over.strip():
        when = parse_moment(handed_over)
        if when is None:
            raise ConfigurationError(
                f"The logical date {handed_over!r} is not an ISO date such as 2026-11-25."
            )
        when = when.astimezone(tz) if when.tzinfo is not None else when.replace(tzinfo=tz)
    else:
        when = datetime.datetime.now(tz).replace(microsecond=0)
    return when.isoformat() if moment else when.date().isoformat()
