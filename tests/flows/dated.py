"""A scheduled flow whose inputs take the run's logical date as text, a ``datetime.date`` and a
``datetime.datetime``, beside a plain date input: every target's tests run it for one logical
time and check each value."""

import datetime

from laminar import Flow, Layer, LogicalDate, Parameters, Schedule

#: The logical time the engine tests hand over: still the 24th in UTC, the 25th in Paris.
LOGICAL = "2026-11-24T23:30:00+00:00"
#: What the flow records for that time.
EXPECTED = {
    "text": "2026-11-25",
    "day": datetime.date(2026, 11, 25),
    "at": datetime.datetime(
        2026, 11, 25, 0, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    ),
    "since": datetime.date(2026, 1, 1),
}


class Dated(Flow, schedule=Schedule("0 3 * * *", timezone="Europe/Paris")):
    text: str = LogicalDate()
    day: datetime.date = LogicalDate()
    at: datetime.datetime = LogicalDate()
    since: datetime.date = datetime.date(2026, 1, 1)


@Dated.register
class Read(Layer):
    def __call__(self, parameters: Parameters) -> None:
        self.seen = {name: getattr(parameters, name) for name in EXPECTED}
