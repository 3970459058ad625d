"""Work run in separate processes by the concurrency tests (importable by a child)."""

from __future__ import annotations

import time


def ingest_as(path: str, store: str, name: str, org: str) -> dict:
    """Load one file as a data steward of ``org``; return the report's figures."""
    from loaders.ingest import Uploader, ingest
    report = ingest(path, store=store, uploader=Uploader(name, "data_steward", org, False))
    return {"file": report.file, "refused": report.refused, "reason": report.reason,
            "already_loaded": report.already_loaded, "rows_loaded": report.rows_loaded,
            "indicators": report.indicators}


def read_while(store: str, seconds: float) -> dict:
    """Read the store again and again; count reads that saw a file half loaded.

    Each check is one statement, so it sees one snapshot: every partner row must
    belong to a logged load, and every logged load must have all its rows.
    """
    from store import Store
    reader = Store(store)
    reads, torn, seen = 0, [], set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        frame = reader.query(
            "SELECT l.ingest_id, l.rows_loaded, count(o.ingest_id) AS rows_seen "
            "FROM ingest_log l LEFT JOIN observations o ON o.ingest_id = l.ingest_id "
            "WHERE l.origin = 'partner' GROUP BY l.ingest_id, l.rows_loaded "
            "UNION ALL SELECT 'orphans', 0, count(*) FROM observations "
            "WHERE origin = 'partner' AND ingest_id NOT IN "
            "(SELECT ingest_id FROM ingest_log WHERE ingest_id IS NOT NULL)",
            scope=("administrator", ""))  # as the app reads for an administrator
        reads += 1
        bad = frame[frame["rows_loaded"] != frame["rows_seen"]]
        torn += bad.to_dict("records")
        seen |= set(frame.loc[frame["ingest_id"] != "orphans", "ingest_id"])
    reader.close()
    return {"reads": reads, "torn": torn, "loads_seen": len(seen)}
