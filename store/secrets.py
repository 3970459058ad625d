"""The deployment secret, and what is kept with it outside the register.

One secret per deployment keys the audit log's chain (an HMAC, so an entry cannot
be forged and the rest re-hashed without it) and signs the cookie that keeps a
sign-in (``dashboard.access.sessions``); each purpose gets a key of its own derived
from it (:func:`key_for`). It never lives in the governance register:
whoever can write the register must not also hold the key.

* ``ODA_SECRET_KEY``: the secret itself (at least 32 characters), as a container
  platform's secret store passes it; every replica of a deployment shares it.
* else ``ODA_SECRET_FILE``: a file holding it;
* else ``geodata/secret.key`` beside the store, made on first use (random, mode
  0600), which is what lets ``make run`` work on a laptop with no setting.

The audit log's *checkpoint* (its last entry's number and MAC, itself MAC'd) is
kept beside the key file, or in ``ODA_AUDIT_CHECKPOINTS``, one file per register.
``audit verify`` compares the log with it, so truncating the log, or deleting all
of it, is found even though a shorter chain is still a valid chain. Put it where
the register's writers cannot write (another volume, or storage that only appends)
for the strongest guarantee.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from store.errors import ConfigError
from store.settings import REPO

MIN_LENGTH = 32


def _secret_file() -> Path:
    env = os.environ.get("ODA_SECRET_FILE")
    return Path(env) if env else REPO / "geodata" / "secret.key"


def deployment_key() -> bytes:
    """The deployment secret (``ODA_SECRET_KEY``, else its file, made on first use).

    Raises
    ------
    ConfigError
        If the secret given is shorter than :data:`MIN_LENGTH` characters.
    """
    value = os.environ.get("ODA_SECRET_KEY", "")
    source = "ODA_SECRET_KEY"
    if not value:
        path = _secret_file()
        source = str(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_LENGTH:
        raise ConfigError(source, f"the deployment secret must be at least {MIN_LENGTH} "
                          "characters (use a long random string)")
    return value.encode("utf-8")


def key_for(purpose: str) -> bytes:
    """A key for one purpose (``"audit"``, ``"session"``) derived from the secret, so no
    two purposes share a key."""
    return hmac.new(deployment_key(), purpose.encode("utf-8"), hashlib.sha256).digest()


def mac(purpose: str, text: str) -> str:
    """HMAC-SHA256 of ``text`` under the purpose's key, as hex."""
    return hmac.new(key_for(purpose), text.encode("utf-8"), hashlib.sha256).hexdigest()


def checkpoint_file(register: Path | str) -> Path:
    """Where a register's audit checkpoint is kept (one file per register)."""
    folder = Path(os.environ.get("ODA_AUDIT_CHECKPOINTS") or _secret_file().parent)
    name = hashlib.sha256(str(register).encode("utf-8")).hexdigest()[:24]
    return folder / f"audit-head-{name}.json"


def write_checkpoint(register: Path | str, seq: int, entry_hash: str, prev_hash: str) -> None:
    """Move the register's checkpoint to entry ``seq``, along the chain only: from the
    entry before it (``prev_hash``), or from nothing. A log cut short and written on
    leaves the checkpoint where it was, so the cut stays visible to ``audit verify``.
    Called inside the register's write lock, so entries arrive in order."""
    path = checkpoint_file(register)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            have = read_checkpoint(register)
        except ConfigError:
            return  # an altered checkpoint is kept for verify to report
        if have is not None and (have[0] + 1, have[1]) != (seq, prev_hash):
            return
        body = {"seq": seq, "hash": entry_hash}
        body["mac"] = mac("audit-checkpoint", f"{register}|{seq}|{entry_hash}")
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body), encoding="utf-8")
        os.replace(tmp, path)


def read_checkpoint(register: Path | str) -> tuple[int, str] | None:
    """The checkpoint ``(seq, hash)``; None when there is none.

    Raises
    ------
    ConfigError
        If the checkpoint was altered (its MAC does not match).
    """
    path = checkpoint_file(register)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise ConfigError(str(path), "the audit checkpoint is unreadable") from err
    want = mac("audit-checkpoint", f"{register}|{body.get('seq')}|{body.get('hash')}")
    if not hmac.compare_digest(want, str(body.get("mac", ""))):
        raise ConfigError(str(path), "the audit checkpoint was altered (its MAC does not "
                          "match the deployment secret)")
    return int(body["seq"]), str(body["hash"])
