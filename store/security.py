"""Roles and row-level security on PostgreSQL: the agreements, enforced for every
SQL client as the dashboard enforces them.

Every table in the store's schema has row-level security, which denies by default;
only the tables named in :data:`POLICIES` (SQL logins) and :data:`APP_POLICIES`
(the app) have rules, so a new table is closed until someone writes one.

* **SQL logins.** Group roles ``oda_reader`` and one per app role (``oda_public``,
  ``oda_councillor``, ``oda_analyst``, ...). A person's SQL login is a member of
  their role's group and has the same name as their dashboard account; the
  policies look the account up to know its role and organisation, and apply its
  finest level and the small-count rule row by row.
* **The app.** The app's pool connects as the store's owner but reads as the role
  ``oda_app`` (``SET ROLE`` for each query's transaction, with the viewer's role and
  organisation as settings): partner rows only of indicators that scope may use.
  SQL logins cannot take ``oda_app``, so they cannot claim a scope. The app then
  applies levels and disclosure control itself, since it adds up finer rows than it
  shows.
"""

from __future__ import annotations

import re
import tomllib

import psycopg

from store.errors import SourceError
from store.postgres import APP_ROLE, open_connection
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
  SELECT CASE WHEN geography = 'POINT' THEN 0 WHEN geography LIKE 'LSOA%' THEN 1
              WHEN geography LIKE 'WD%' THEN 2
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

-- The app's reads (as oda_app): the scope it sets for each query ('oda.role', 'oda.org')
-- decides which partner indicators it may use at all. Levels and small counts are the
-- app's own to apply, since it adds up finer rows than it shows (LSOAs into a ward).
CREATE OR REPLACE FUNCTION oda.app_scope(OUT v_role text, OUT v_org text,
                                         OUT partner_data text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT r.name, coalesce(current_setting('oda.org', true), ''), r.partner_data
    FROM governance.roles r
   WHERE r.name = coalesce(nullif(current_setting('oda.role', true), ''), 'public') $$;

CREATE OR REPLACE FUNCTION oda.app_indicators() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(c.indicator), '{}')
    FROM oda.catalogue c CROSS JOIN oda.app_scope() me
    LEFT JOIN LATERAL (SELECT g.* FROM governance.agreements g
                        WHERE g.indicators::jsonb ? c.indicator LIMIT 1) ag ON true
   WHERE c.origin = 'partner' AND me.v_role IS NOT NULL AND (
         me.partner_data = 'all'
      OR (me.partner_data = 'own' AND me.v_org <> '' AND me.v_org = c.partner
          AND (ag.id IS NULL OR (ag.status = 'active'
               AND (ag.start_date IS NULL OR ag.start_date::date <= current_date)
               AND ag.expires::date >= current_date)))
      OR (me.partner_data IN ('agreements', 'own') AND ag.status = 'active'
          AND (ag.start_date IS NULL OR ag.start_date::date <= current_date)
          AND ag.expires::date >= current_date
          AND (ag.roles::jsonb ? me.v_role OR (me.v_org <> '' AND ag.orgs::jsonb ? me.v_org))))
$$;

-- A partner file's quarantined rows: its own organisation's stewards and administrators.
CREATE OR REPLACE FUNCTION oda.app_rejects() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(l.ingest_id), '{}')
    FROM oda.ingest_log l CROSS JOIN oda.app_scope() me
   WHERE l.origin = 'partner' AND (me.partner_data = 'all'
         OR (me.partner_data = 'own' AND me.v_org <> '' AND l.partner = me.v_org)) $$;

-- A partner file's load record: as its rejects, and to whoever may use what it loaded.
CREATE OR REPLACE FUNCTION oda.app_loads() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT oda.app_rejects() || coalesce(array_agg(l.ingest_id), '{}')
    FROM oda.ingest_log l
   WHERE l.origin = 'partner' AND EXISTS (
         SELECT 1 FROM oda.observations o WHERE o.ingest_id = l.ingest_id
            AND o.indicator = ANY (oda.app_indicators())) $$;
"""


# Each table's rule for SQL logins (``USING``). A table not named here has row-level
# security and no policy: nobody but the owner reads a row of it.
OPEN_DATA = "true"
POLICIES = {
    **dict.fromkeys(("areas", "lsoa_ward", "lsoa11_lsoa21", "lad_codes", "lad_pfa",
                     "population", "regions", "build_info"), OPEN_DATA),
    "observations": "oda.may_read(current_user, indicator, origin, geography, value)",
    "catalogue": "oda.may_know(current_user, indicator, origin)",
    # Which districts and months a source covers says what a partner holds.
    "coverage": "oda.may_know(current_user, indicator, origin)",
    # Points are the finest level there is: open ones to roles allowed points, a
    # partner's as its agreement allows (a position with fewer than k incidents never).
    "crime_points": "oda.may_read(current_user, indicator, origin, 'POINT', n)",
    "quarantine": "origin IS DISTINCT FROM 'partner' OR "
                  "oda.may_see_rejects(current_user, ingest_id)",
    # A partner upload's file name and report: its own organisation's stewards only.
    "ingest_log": "origin IS DISTINCT FROM 'partner' OR "
                  "oda.may_see_rejects(current_user, ingest_id)",
}


# The app's rule on each table: partner rows only of what its query's scope may use.
# Each list is worked out once per query (a hashed subplan), not once per row.
_USED = ("origin IS DISTINCT FROM 'partner' OR indicator IN "
         "(SELECT unnest(oda.app_indicators()))")
APP_POLICIES = {
    **{table: OPEN_DATA for table, rule in POLICIES.items() if rule == OPEN_DATA},
    **dict.fromkeys(("observations", "catalogue", "coverage", "crime_points"), _USED),
    "quarantine": "origin IS DISTINCT FROM 'partner' OR "
                  "ingest_id IN (SELECT unnest(oda.app_rejects()))",
    "ingest_log": "origin IS DISTINCT FROM 'partner' OR "
                  "ingest_id IN (SELECT unnest(oda.app_loads()))",
}


def security(con: psycopg.Connection) -> None:
    """Create the read roles and the row-level security policies (idempotent).

    Every app role gets a group role that may read the store; every table in the
    store's schema has row-level security, which denies by default, and the
    policies (:data:`POLICIES`) decide which rows. The owner (the loaders' connection)
    is not subject to them.
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
    if APP_ROLE not in existing:
        con.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    con.execute(f"GRANT {APP_ROLE} TO CURRENT_USER")  # the app's pool takes it per query
    con.execute(POLICY_FUNCTIONS)
    for role in ("oda_reader", APP_ROLE):
        con.execute(f"GRANT USAGE ON SCHEMA oda TO {role}")
        con.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA oda TO {role}")
    tables = [t for t, in con.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'oda' AND c.relkind IN ('r', 'p') ORDER BY 1").fetchall()]
    for table in tables:  # every table denies by default; only known ones get a policy
        con.execute(f"ALTER TABLE oda.{table} ENABLE ROW LEVEL SECURITY")
        for name, role, rules in (("agreements", "oda_reader", POLICIES),
                                  ("app", APP_ROLE, APP_POLICIES)):
            con.execute(f"DROP POLICY IF EXISTS {name} ON oda.{table}")
            if table in rules:
                con.execute(f"CREATE POLICY {name} ON oda.{table} FOR SELECT TO {role} "
                            f"USING ({rules[table]})")
    for view, in con.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON "
                             "n.oid = c.relnamespace WHERE n.nspname = 'oda' AND "
                             "c.relkind IN ('v', 'm')").fetchall():
        # A view reads with its caller's rights, so the tables' policies hold through it.
        con.execute(f"ALTER VIEW oda.{view} SET (security_invoker = true)")


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

