"""The interventions register's storage: who is doing what, where and when.

A record (:data:`FIELDS`) and the areas it covers (``intervention_areas``: one row
per LSOA or ward code, with its geography) live in the governance register beside
the agreements (:mod:`store.governance`), since they are entered by people, not
rebuilt from files: a store rebuild never touches them, and several programs may
write at once. On PostgreSQL they are the ``governance`` schema, which SQL logins
cannot read at all.

Storage only: who may see a record is ``dashboard.access.policy.sees_intervention``,
applied in the model's door (``dashboard.measures.interventions``).
"""

from __future__ import annotations

import json

import pandas as pd

from store.governance import connect, now, read

FIELDS = ("title", "agency", "region", "kind", "description", "start_month", "end_month", "dose",
          "dose_unit", "indicators", "problem", "cost", "contact", "status", "visibility",
          "agreement", "areas_from")


def _values(record: dict) -> list:
    return [json.dumps(record[f]) if f == "indicators" else record.get(f) for f in FIELDS]


def save(record: dict, areas: pd.DataFrame, by: str, *, new: bool, path=None) -> bool:
    """Add (``new``) or replace a record and its areas (``geography, code``) in one
    transaction; False when adding an id that is taken, or replacing one that is not."""
    stamp = now()
    with connect(path, write=True) as con:
        exists = con.execute("SELECT 1 FROM interventions WHERE id = ?",
                             [record["id"]]).fetchone() is not None
        if exists == new:
            return False
        if new:
            con.execute(f"INSERT INTO interventions (id, {', '.join(FIELDS)}, created_at, "
                        f"created_by, updated_at, updated_by) VALUES "
                        f"(?, {', '.join('?' * len(FIELDS))}, ?, ?, ?, ?)",
                        [record["id"], *_values(record), stamp, by, stamp, by])
        else:
            con.execute(f"UPDATE interventions SET {', '.join(f'{f} = ?' for f in FIELDS)}, "
                        "updated_at = ?, updated_by = ? WHERE id = ?",
                        [*_values(record), stamp, by, record["id"]])
            con.execute("DELETE FROM intervention_areas WHERE intervention = ?", [record["id"]])
        for geo, code in zip(areas["geography"], areas["code"], strict=True):
            con.execute("INSERT INTO intervention_areas (intervention, geography, code) "
                        "VALUES (?, ?, ?)", [record["id"], geo, code])
    return True


def records(path=None) -> pd.DataFrame:
    """Every record, ``indicators`` as lists (no access applied: the door's to do)."""
    frame = read("SELECT * FROM interventions ORDER BY start_month, id", path=path)
    frame["indicators"] = frame["indicators"].map(json.loads)
    return frame


def areas(path=None) -> pd.DataFrame:
    """``intervention, geography, code``: every record's areas."""
    return read("SELECT intervention, geography, code FROM intervention_areas "
                "ORDER BY intervention, code", path=path)


def stamp(path=None) -> str:
    """Changes whenever a record is added or changed (a cache key)."""
    row = read("SELECT count(*) AS n, max(updated_at) AS at FROM interventions",
               path=path).iloc[0]
    return f"{row['n']}:{row['at']}"
