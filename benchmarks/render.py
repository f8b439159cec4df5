"""Render cost of the wire documents: a webhook body and a list page, built and encoded.

    .venv/bin/python -m benchmarks.render

CPU time (``time.process_time``), best of seven, so other work on a shared machine counts
less than in wall time: a webhook event as the worker renders and encodes it (with and
without the person's external references), and a page of the read API (900 live records of
1,000) as ``GET /work-interruptions`` builds and encodes it.
"""

from __future__ import annotations

import datetime as dt
import time
import timeit
from collections.abc import Callable

import msgspec

from workhooks.documents import WorkInterruptionPage, event_document, work_interruption_document
from workhooks.domain.records import WorkInterruption

__all__ = ["main", "render_costs"]

_encode = msgspec.json.Encoder().encode
_REFERENCES = {"@employee-number": "E-0042", "HRMID": "HR-1"}
_LINK = "/connector/protimeapi/api/v1/work-interruptions?filter=x&continuationToken=abc"


def _records(count: int) -> list[WorkInterruption]:
    """Records of 97 people over 300 days; every tenth is a tombstone."""
    return [
        WorkInterruption(
            id=i,
            person_id=i % 97 + 1,
            date=dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
            duration_in_minutes=30,
            start_time_in_minutes=600,
            end_time_in_minutes=630,
            change_version=1000 + i,
            deleted=i % 10 == 0,
        )
        for i in range(1, count + 1)
    ]


def render_costs(*, records: int = 1000, runs: int = 100) -> dict[str, float]:
    """Microseconds of CPU per event and per page, by measure."""
    found = _records(records)
    events, live = found[:100], [r for r in found if not r.deleted]

    def payloads(references: dict[str, str] | None) -> Callable[[], None]:
        def run() -> None:
            for record in events:
                _encode(event_document(record, person_references=references))

        return run

    def page(references: dict[str, str] | None) -> Callable[[], None]:
        def run() -> None:
            value = [work_interruption_document(r, person_references=references) for r in live]
            _encode(WorkInterruptionPage(value=value, nextLink=_LINK))

        return run

    measures = {
        "webhook body, us/event": (payloads(None), len(events)),
        "webhook body with references, us/event": (payloads(_REFERENCES), len(events)),
        f"list page of {len(live)} records, us/page": (page(None), 1),
        f"list page of {len(live)} records with references, us/page": (page(_REFERENCES), 1),
    }
    return {
        name: min(timeit.repeat(run, number=runs, repeat=7, timer=time.process_time))
        / runs
        / per
        * 1e6
        for name, (run, per) in measures.items()
    }


def main() -> None:
    """Print each render cost."""
    for name, micros in render_costs().items():
        print(f"{name}: {micros:.2f}")


if __name__ == "__main__":
    main()
