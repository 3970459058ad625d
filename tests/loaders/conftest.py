"""Loader test fixtures."""

from __future__ import annotations


def counts(report) -> tuple[int, int, int, int]:
    """A loaded file's rows read, loaded, hidden by the partner and quarantined, after
    checking that it loaded and that no row is lost."""
    assert not report.refused, report.reason
    assert report.rows_read == report.rows_loaded + report.rows_suppressed + \
        report.rows_quarantined
    return (report.rows_read, report.rows_loaded, report.rows_suppressed,
            report.rows_quarantined)
