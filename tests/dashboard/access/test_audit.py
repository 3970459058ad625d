"""An audit log that can be relied on: chained with a key that is not in the register,
checkpointed outside it, and one entry for every command-line run with its outcome.

Each attack is run through ``python -m dashboard audit verify``, as an auditor would.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from dashboard.access import OPERATOR, accounts, audit
from store import governance, secrets
from tests.conftest import PASSWORD
from tests.dashboard.access.test_access import cli


@pytest.fixture()
def log(tmp_path, store):
    """A register with 20 audit entries, and the command line's store option."""
    gov = tmp_path / "gov.sqlite"
    for i in range(20):
        audit.record(OPERATOR, "account", gov, action="note", n=i)
    return gov, ["--store", str(store.path)]


def verify(gov, opts):
    return cli("audit", "verify", *opts, env_gov=gov)


def entries(gov) -> list[tuple]:
    with sqlite3.connect(gov) as con:
        return con.execute("SELECT seq, event, actor, detail FROM audit_log ORDER BY seq"
                           ).fetchall()


def test_an_intact_log_verifies(log):
    gov, opts = log
    done = verify(gov, opts)
    assert done.returncode == 0, done.stderr
    assert "intact (20 entries)" in done.stderr


@pytest.mark.parametrize(("cut", "says"), [
    ("seq > 10", "the log ends at entry 10, but the checkpoint records entry 20"),
    ("seq > 20 / 2", "entries were removed from its end"),
    ("1 = 1", "the audit log is empty, but the checkpoint records 20 entries"),
])
def test_a_cut_tail_or_a_deleted_log_is_found(log, cut, says):
    gov, opts = log
    with sqlite3.connect(gov) as con:
        con.execute(f"DELETE FROM audit_log WHERE {cut}")
    done = verify(gov, opts)
    assert done.returncode == 1 and says in done.stderr, done.stderr
    # Written on after the cut, the log still does not reach back to the checkpoint.
    for i in range(25):
        audit.record(OPERATOR, "account", gov, action="after the cut", n=i)
    assert verify(gov, opts).returncode == 1


def _rehash(gov, start: int, entry_hash) -> None:
    """Rewrite every entry's chain from ``start`` on with ``entry_hash``, as a forger
    who can write the register would."""
    with sqlite3.connect(gov) as con:
        rows = con.execute("SELECT seq, logged_at, actor, role, event, detail, prev_hash "
                           "FROM audit_log ORDER BY seq").fetchall()
        prev = con.execute("SELECT hash FROM audit_log WHERE seq = ?", [start - 1]
                           ).fetchone()[0] if start > 1 else governance.GENESIS
        for seq, at, actor, role, event, detail, _ in rows[start - 1:]:
            new = entry_hash(prev, seq, at, actor, role, event, detail)
            con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                        [prev, new, seq])
            prev = new


def _plain(prev, seq, at, actor, role, event, detail) -> str:
    body = json.dumps([seq, at, actor, role, event, detail], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def _guessed_key(prev, seq, at, actor, role, event, detail) -> str:
    import hmac
    body = json.dumps([seq, at, actor, role, event, detail], ensure_ascii=False,
                      separators=(",", ":"))
    return governance.KEYED + hmac.new(b"a guess at the key", (prev + body).encode(),
                                       hashlib.sha256).hexdigest()


@pytest.mark.parametrize("rehash", [_plain, _guessed_key], ids=["unkeyed", "wrong key"])
def test_a_forged_entry_with_the_rest_rehashed_without_the_key_is_found(log, rehash):
    gov, opts = log
    with sqlite3.connect(gov) as con:
        con.execute("UPDATE audit_log SET detail = ?, actor = 'someone' WHERE seq = 12",
                    [json.dumps({"action": "forged"})])
    _rehash(gov, 12, rehash)
    done = verify(gov, opts)
    assert done.returncode == 1
    assert "entry 12" in done.stderr and "forged" in done.stderr, done.stderr


def test_the_key_is_not_in_the_register_and_the_checkpoint_cannot_be_edited(log):
    gov, opts = log
    key = secrets.deployment_key().decode()
    assert key.encode() not in gov.read_bytes()
    head = secrets.checkpoint_file(governance.register_id(gov))
    assert head.exists() and head.parent != gov.parent / "nowhere"
    body = json.loads(head.read_text())
    head.write_text(json.dumps({**body, "seq": 10}))  # moved back to hide a cut
    done = verify(gov, opts)
    assert done.returncode == 1 and "checkpoint was altered" in done.stderr


def test_every_as_run_is_an_entry_with_its_outcome_and_refusals_read_as_refusals(
        partner_world, tmp_path):
    gov = tmp_path / "gov.sqlite"
    opts = ["--store", str(partner_world)]
    accounts.add_user("cllr", "councillor", "", PASSWORD, by=OPERATOR, path=gov)
    accounts.add_user("gone", "analyst", "avon_police", PASSWORD, by=OPERATOR, path=gov)
    accounts.set_active("gone", False, by=OPERATOR, path=gov)
    view = ["export", "--region", "avon_and_somerset", "--indicator", "crime_all",
            "--period", "2022-01:2022-01", "--format", "csv", *opts]
    before = len(entries(gov))
    runs = [("nobody", "lsoa", 2), ("gone", "lsoa", 2), ("cllr", "lsoa", 2),
            ("cllr", "ward", 0)]
    for name, level, status in runs:
        done = cli(*view, "--level", level, "--out", str(tmp_path / f"{name}.csv"), "--as",
                   name, env_gov=gov)
        assert done.returncode == status, done.stderr
    got = [(e[1], e[2], json.loads(e[3])) for e in entries(gov)[before:]
           if e[1] in ("command", "refused", "failed")]
    assert [(event, actor) for event, actor, _ in got] == [
        ("refused", "nobody"), ("refused", "gone"), ("refused", "cllr"), ("command", "cllr")]
    assert "'nobody' is not an active account" in got[0][2]["outcome"]
    assert "ward level and above" in got[2][2]["outcome"]
    assert got[3][2]["outcome"] == "done" and got[3][2]["status"] == 0
    assert all(g[2]["command"] == "export" for g in got)
    wrong = cli(*view, "--level", "ward", "--out", str(tmp_path / "no" / "x.csv"), "--as",
                "cllr", env_gov=gov)
    assert wrong.returncode == 2
    assert entries(gov)[-1][1:3] == ("failed", "cllr")
    assert verify(gov, opts).returncode == 0
