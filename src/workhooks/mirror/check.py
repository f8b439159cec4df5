"""``workhooks mirror check``: compare the mirror with the server, month by month.

Each month of the scope is compared by count and by a checksum over the sorted
``(id, changeVersion)`` pairs; a month that differs is listed with the ids that are missing,
extra or at another version. Records that change while the check runs may show up as
differences: run it again after the mirror has caught up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from workhooks.client.sink import SyncScope
from workhooks.client.sqlite_sink import SqliteSink
from workhooks.client.sync_client import Client
from workhooks.mirror.settings import MirrorSettings

__all__ = ["RangeReport", "checksum", "compare", "month_ranges", "run_check"]

_LISTED = 10  # ids shown per kind of difference


def checksum(versions: Mapping[int, str]) -> str:
    """A short SHA-256 over the sorted ``id:changeVersion`` lines."""
    digest = hashlib.sha256()
    for record_id in sorted(versions):
        digest.update(f"{record_id}:{versions[record_id]}\n".encode())
    return digest.hexdigest()[:16]


def month_ranges(date_from: dt.date, date_to: dt.date) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive calendar-month slices covering ``date_from`` to ``date_to``."""
    start = date_from
    while start <= date_to:
        next_month = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        end = min(next_month - dt.timedelta(days=1), date_to)
        yield start, end
        start = end + dt.timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeReport:
    """How one date range compares: counts, checksums and the differing ids."""

    date_from: dt.date
    date_to: dt.date
    server: Mapping[int, str]
    mirror: Mapping[int, str]

    @property
    def same(self) -> bool:
        """Whether the mirror holds exactly the server's ids at the server's versions."""
        return dict(self.server) == dict(self.mirror)

    def lines(self) -> list[str]:
        """A human summary: one line, and for a difference one line per kind."""
        head = (
            f"{self.date_from} to {self.date_to}: server {len(self.server)} "
            f"({checksum(self.server)}), mirror {len(self.mirror)} ({checksum(self.mirror)})"
        )
        if self.same:
            return [f"{head}: same"]
        missing = sorted(self.server.keys() - self.mirror.keys())
        extra = sorted(self.mirror.keys() - self.server.keys())
        stale = sorted(
            i for i in self.server.keys() & self.mirror.keys() if self.server[i] != self.mirror[i]
        )
        out = [f"{head}: DIFFERENT"]
        for label, ids in (("missing", missing), ("extra", extra), ("other version", stale)):
            if ids:
                shown = ", ".join(str(i) for i in ids[:_LISTED])
                more = f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else ""
                out.append(f"  {label}: {shown}{more}")
        return out


def compare(client: Client, sink: SqliteSink, scope: SyncScope) -> list[RangeReport]:
    """Compare every month of ``scope`` between the server and the sink."""
    reports = []
    for start, end in month_ranges(scope.date_from, scope.date_to):
        server = {
            r.id: r.change_version
            for r in client.iter_work_interruptions(
                f"date ge '{start.isoformat()}' and date le '{end.isoformat()}'"
            )
        }
        mirror = sink.versions_between(start, end)
        reports.append(RangeReport(date_from=start, date_to=end, server=server, mirror=mirror))
    return reports


def run_check(settings: MirrorSettings) -> int:
    """Print the comparison; return 0 when the mirror equals the server, else 1.

    A copy that does not exist cannot be checked (2): it is never created here.
    """
    if not Path(settings.db).is_file():
        print(
            f"workhooks mirror: cannot check: {settings.db} does not exist (has the mirror run?)",
            file=sys.stderr,
        )
        return 2
    with SqliteSink(settings.db) as sink:
        state = sink.load_state()
        if state is None:
            print(f"{settings.db} holds no mirror state yet: has the mirror run?")
        explicit = settings.date_from is not None or settings.date_to is not None
        if state is not None and not explicit:
            scope = state.scope
        else:
            scope = settings.scope(dt.datetime.now(dt.UTC).date())
        endpoints = settings.endpoints()
        with Client(
            endpoints.base_url,
            tenant=settings.tenant,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            user_agent=settings.user_agent,
            token_url=endpoints.token_url,
            oidc_issuer=endpoints.oidc_issuer,
        ) as client:
            reports = compare(client, sink, scope)
    for report in reports:
        for line in report.lines():
            print(line)
    differing = [r for r in reports if not r.same]
    total = sum(len(r.server) for r in reports)
    if differing:
        print(f"mirror differs from the server in {len(differing)} of {len(reports)} ranges")
        return 1
    print(f"mirror equals the server: {total} records in {len(reports)} ranges")
    return 0
