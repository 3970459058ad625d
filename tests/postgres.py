"""Throwaway PostgreSQL databases for the tests, each a copy of the published store.

The build is published once into ``oda_template`` (skipped when its fingerprint
matches); each test store is ``CREATE DATABASE ... TEMPLATE oda_template``,
which copies files and takes a second or two. Test processes take turns with an
advisory lock, since a template may not be copied while anyone is connected to it.
"""

from __future__ import annotations

import os

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from deploy.pgcluster import Cluster
from loaders.build import build

TEMPLATE = "oda_template"
LOCK = 7_201_020


def with_database(url: str, dbname: str) -> str:
    """The same server and role, another database."""
    info = conninfo_to_dict(url)
    info["dbname"] = dbname
    return "postgresql://{user}@{host}:{port}/{dbname}".format(**info) \
        if set(info) <= {"user", "host", "port", "dbname"} else make_conninfo(**info)


class Databases:
    """Databases on one server; :meth:`database` makes a fresh copy of the store."""

    def __init__(self, url: str, cluster: Cluster | None = None) -> None:
        self.url, self.cluster = url, cluster
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.made: list[str] = []
        self._template: str | None = None

    @classmethod
    def start(cls) -> Databases:
        url = os.environ.get("ODA_TEST_DATABASE_URL")
        if url:
            return cls(url)
        cluster = Cluster().start()
        return cls(cluster.url(), cluster)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(with_database(self.url, "postgres"), autocommit=True)

    def template(self) -> str:
        """The published store's template database (publishing it when out of date),
        checked once per process."""
        if self._template:
            return self._template
        url = with_database(self.url, TEMPLATE)
        with self._admin() as con:
            con.execute("SELECT pg_advisory_lock(%s)", [LOCK])
            try:
                if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   [TEMPLATE]).fetchone():
                    # The cluster's own database has PostGIS (added by its superuser).
                    con.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE "
                                f"{conninfo_to_dict(self.url)['dbname']}")
                build(url, log=lambda _line: None)
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", [LOCK])
        self._template = url
        return url

    def database(self, name: str) -> str:
        """A fresh copy of the store, ``oda_<worker>_<name>``; returns its URL."""
        self.template()
        dbname = f"oda_{self.worker}_{name}".lower()
        with self._admin() as con:
            con.execute("SELECT pg_advisory_lock(%s)", [LOCK])
            try:
                con.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
                con.execute(f"CREATE DATABASE {dbname} TEMPLATE {TEMPLATE}")
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", [LOCK])
        self.made.append(dbname)
        return with_database(self.url, dbname)

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
