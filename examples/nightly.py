"""A nightly ETL: every day at 03:00 in Paris, process that day's partition; catch up missed
days; one run at a time.

    laminar run examples/nightly.py                            # today's partition
    laminar run examples/nightly.py --logical-date 2026-11-25  # a past day
"""

from laminar import Flow, Layer, LogicalDate, Parameters, Schedule


class Nightly(
    Flow, schedule=Schedule("0 3 * * *", timezone="Europe/Paris", catchup=True), max_active_runs=1
):
    """Loads one day's partition of the warehouse."""

    date: str = LogicalDate()
    rows: int = 100


@Nightly.register
class Extract(Layer):
    def __call__(self, parameters: Parameters) -> None:
        self.partition = f"day={parameters.date}"
        self.rows = parameters.rows


@Nightly.register
class Load(Layer):
    def __call__(self, extract: Extract) -> None:
        print(f"loaded {extract.rows} rows of {extract.partition}")


if flow := Nightly():
    flow()
