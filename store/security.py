"""Roles and row-level security on PostgreSQL: the agreements, enforced for every
SQL client as the dashboard enforces them.

Group roles ``oda_reader`` and one per app role (``oda_public``,
``oda_councillor``, ``oda_analyst``, ...). A person's SQL login is a member of
their role's group and has the same name as their dashboard account; the
policies look the account up to know its role and organisation.
"""

from __future__ import annotations

import re
import tomllib

import psycopg

from store.errors import SourceError
from store.postgres import open_connection
from store.settings import roles_file


def roles_config() -> dict[str, dict]:
    """The app roles from ``config/roles.toml`` (or ``ODA_ROLES``)."""
    return tomllib.loads(roles_file().read_text(encoding="utf-8"))["roles"]


def db_role(app_role: str) -> str:
    """The database group role of an app role."""
    return f"oda_{app_role}"


POLICY_FUNCTIONS = """
CREATE OR REPLACE FUNCTION oda.level_rank(level text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE level WHEN 'point' THEN 0 WHEN 'lsoa' THEN 1 WHEN 'ward' THEN 2
                    WHEN 'district' THEN 3 ELSE 4 END $$;

CREATE OR REPLACE FUNCTION oda.geography_rank(geography text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN geography LIKE 'LSOA%' THEN 1 WHEN geography LIKE 'WD%' THEN 2
              WHEN geography LIKE 'LAD%' THEN 3 ELSE 4 END $$;

-- Whether the SQL login ``who`` may read one stored row. The same rule as
-- dashboard.access.policy.grants, row by row: open data to every role down to its
-- finest level; partner data to its organisation's stewards (while its agreement,
-- if any, is live), to the roles and organisations a live agreement names (down to
-- the coarser of role and agreement, and never a small count from 1 to k-1), and to
-- administrators. A login with no active account reads as the public.
CREATE OR REPLACE FUNCTION oda.may_read(who text, p_indicator text, p_origin text,
                                        p_geography text, p_value double precision)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  me record; ag record; cat record; is_live boolean;
BEGIN
  SELECT a.role, coalesce(a.org, '') AS org, r.finest_level, r.partner_data INTO me
    FROM governance.accounts a JOIN governance.roles r ON r.name = a.role
   WHERE a.name = who AND a.active = 1;
  IF NOT FOUND THEN
    SELECT 'public' AS role, '' AS org, r.finest_level, r.partner_data INTO me
      FROM governance.roles r WHERE r.name = 'public';
  END IF;
  IF p_origin IS DISTINCT FROM 'partner' THEN
    RETURN oda.geography_rank(p_geography) >= oda.level_rank(me.finest_level);
  END IF;
  IF me.partner_data = 'all' THEN
    RETURN true;
  END IF;
  SELECT c.partner, coalesce(c.suppression_k, 0) AS k INTO cat
    FROM oda.catalogue c WHERE c.indicator = p_indicator;
  SELECT * INTO ag FROM governance.agreements g
   WHERE g.indicators::jsonb ? p_indicator LIMIT 1;
  is_live := ag.id IS NOT NULL AND ag.status = 'active'
             AND (ag.start_date IS NULL OR ag.start_date::date <= current_date)
             AND ag.expires::date >= current_date;
  IF me.partner_data = 'own' AND me.org <> '' AND me.org = cat.partner
     AND (ag.id IS NULL OR is_live) THEN
    RETURN oda.geography_rank(p_geography) >= oda.level_rank(me.finest_level);
  END IF;
  IF is_live AND me.partner_data IN ('agreements', 'own')
     AND (ag.roles::jsonb ? me.role OR (me.org <> '' AND ag.orgs::jsonb ? me.org)) THEN
    RETURN oda.geography_rank(p_geography) >=
             greatest(oda.level_rank(me.finest_level), oda.level_rank(ag.level))
           AND NOT coalesce(cat.k > 1 AND p_value > 0 AND p_value < cat.k, false);
  END IF;
  RETURN false;
END $$;

-- A catalogue entry: the same test at any level.
CREATE OR REPLACE FUNCTION oda.may_know(who text, p_indicator text, p_origin text)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT p_origin IS DISTINCT FROM 'partner'
      OR oda.may_read(who, p_indicator, p_origin, 'LAD', NULL) $$;

-- A quarantined row of a partner file: its organisation's stewards and administrators.
CREATE OR REPLACE FUNCTION oda.may_see_rejects(who text, p_ingest_id text)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM governance.accounts a JOIN governance.roles r ON r.name = a.role
     WHERE a.name = who AND a.active = 1
       AND (r.partner_data = 'all' OR (r.partner_data = 'own' AND a.org <> ''
            AND a.org = (SELECT l.partner FROM oda.ingest_log l
                          WHERE l.ingest_id = p_ingest_id LIMIT 1)))) $$;
"""


def security(con: psycopg.Connection) -> None:
    """Create the read roles and the row-level security policies (idempotent).

    Every app role gets a group role that may read the store; the policies decide
    which rows. The owner (the dashboard's own connection) is not subject to them:
    the dashboard applies the same rules itself, with disclosure control on top.
    """
    roles = roles_config()
    con.execute("DELETE FROM governance.roles")
    for name, spec in roles.items():
        con.execute("INSERT INTO governance.roles (name, finest_level, partner_data) "
                    "VALUES (%s, %s, %s)", [name, spec["finest_level"], spec["partner_data"]])
    existing = {r for r, in con.execute("SELECT rolname FROM pg_roles").fetchall()}
    for role in ["oda_reader", *(db_role(n) for n in roles)]:
        if role not in existing:
            con.execute(f"CREATE ROLE {role} NOLOGIN")
        if role != "oda_reader":
            con.execute(f"GRANT oda_reader TO {role}")
    con.execute(POLICY_FUNCTIONS)
    con.execute("GRANT USAGE ON SCHEMA oda TO oda_reader")
    con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA oda TO oda_reader")
    con.execute("REVOKE SELECT ON oda.ingest_log FROM oda_reader")
    for table, using in (
            ("observations", "oda.may_read(current_user, indicator, origin, geography, value)"),
            ("catalogue", "oda.may_know(current_user, indicator, origin)"),
            ("quarantine", "origin IS DISTINCT FROM 'partner' OR "
             "oda.may_see_rejects(current_user, ingest_id)")):
        con.execute(f"ALTER TABLE oda.{table} ENABLE ROW LEVEL SECURITY")
        con.execute(f"DROP POLICY IF EXISTS agreements ON oda.{table}")
        con.execute(f"CREATE POLICY agreements ON oda.{table} FOR SELECT TO oda_reader "
                    f"USING ({using})")


def add_sql_login(url: str, name: str, role: str, password: str) -> None:
    """Create (or update) a SQL login for a dashboard account, in its role's group.

    The login has the account's name; the policies use the account's role and
    organisation, and a disabled account reads as the public.
    """
    roles = roles_config()
    if role not in roles:
        raise SourceError("--role", f"{role!r} is not a role; known: {list(roles)}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SourceError("name", f"{name!r} cannot be a SQL login: use lower-case letters, "
                          "digits and underscores")
    with open_connection(url) as con:
        exists = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        con.execute(psycopg.sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            psycopg.sql.SQL(verb), psycopg.sql.Identifier(name),
            psycopg.sql.Literal(password)))
        for other in roles:
            con.execute(f"REVOKE {db_role(other)} FROM {name}")
        con.execute(f"GRANT {db_role(role)} TO {name}")

