"""The architecture, kept by a test: the folder says what a module may touch.

* ``store/`` is the only code that opens the store; it imports neither ``loaders``
  nor ``dashboard``.
* ``loaders`` never imports ``dashboard``; nothing imports ``pages``; ``pages`` import
  the model (``dashboard``) only, never the store or the loaders.
* Streamlit is imported only by ``pages/``, the entries (``streamlit_app.py``,
  ``serve.py``) and the UI glue package (``dashboard/ui/``).
* Inside the model, packages import downwards only (``MODEL_LAYERS``): the door and
  what it stands on never import analyses, views or the UI glue.
* SQL is written only in ``store/`` and the model's one read module: no other module
  calls ``.query(`` or holds a ``SELECT``/``INSERT``/``UPDATE``/``DELETE`` statement.

The rules read the source (``ast``), so a new module is covered the day it is added.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("store", "loaders", "dashboard", "pages")
# The model's one read module: the only place outside store/ that writes SQL.
READ_MODULE = "dashboard/measures/_read.py"
# SQL still written outside the store and the read module, file by file (statements
# counted): none. A file that gains some fails the suite.
STILL_TO_MOVE: dict[str, int] = {}
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH)\b.*"
                 r"\b(FROM|INTO|SET|TABLE|SELECT|AS)\b", re.S)


def sources() -> list[Path]:
    files = [REPO / "streamlit_app.py", REPO / "serve.py"]
    for package in PACKAGES:
        files += sorted((REPO / package).rglob("*.py"))
    return files


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = rel(path).removesuffix(".py").split("/")[:-node.level]
                base = ".".join([*parts, base] if base else parts)
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def top(name: str) -> str:
    return name.split(".", 1)[0]


def owner(path: Path) -> str:
    name = rel(path)
    return name.split("/", 1)[0] if "/" in name else "entry"


def test_the_rules_see_every_module():
    """A broken walk would pass every rule: the walk must find the packages' modules."""
    found = {owner(p) for p in sources()}
    assert {"store", "loaders", "dashboard", "pages", "entry"} <= found
    assert len(sources()) > 60


@pytest.mark.parametrize("path", sources(), ids=rel)
def test_imports_flow_one_way(path):
    mods = {top(m) for m in imports(path)}
    where = owner(path)
    assert "pages" not in mods, f"{rel(path)} imports pages; nothing may"
    if where == "store":
        assert not mods & {"loaders", "dashboard"}, \
            f"{rel(path)}: the store imports neither loaders nor dashboard"
    if where == "loaders":
        assert "dashboard" not in mods, f"{rel(path)}: loaders never import dashboard"
    if where in ("pages", "entry"):
        assert not mods & {"store", "loaders"}, \
            f"{rel(path)}: pages reach data through the model (dashboard) only"


# The model's packages, lowest first. A package may import its own and those below it
# in this order, never those above: the door and what it stands on (access, the view
# filter, geography, measures) know nothing of analyses, views or screens, and only
# the Streamlit glue and the command line sit on top of everything.
MODEL_LAYERS = {
    "filters": 0, "access": 1, "geography": 1, "measures": 1, "partners": 1, "register": 1,
    "analysis": 2, "views": 2, "ui": 3, "cli": 3,
}


def model_package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "dashboard" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in MODEL_LAYERS else None


def test_the_model_layers_cover_the_dashboard_folder():
    """Every package and module directly under dashboard/ has a layer, so a new one
    is placed on purpose."""
    under = {p.name.removesuffix(".py") for p in (REPO / "dashboard").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert under - {"__init__", "__main__"} == set(MODEL_LAYERS)


@pytest.mark.parametrize("path", [p for p in sources() if rel(p).startswith("dashboard/")],
                         ids=rel)
def test_the_model_imports_only_downwards(path):
    me = model_package(rel(path).removesuffix(".py").replace("/", "."))
    if me is None:
        return
    above = {them for m in imports(path) if (them := model_package(m))
             and them != me and MODEL_LAYERS[them] > MODEL_LAYERS[me]}
    assert not above, (f"{rel(path)} ({me}) imports {sorted(above)}, which sit above it: "
                       "move the shared part down, or the caller up")


def test_the_layer_rule_catches_an_upward_import(tmp_path):
    """The detector itself: a measure that imports a map or the UI glue is caught."""
    probe = tmp_path / "probe.py"
    probe.write_text("from dashboard.views import maps\nimport dashboard.ui.cached\n")
    me = model_package("dashboard.measures.probe")
    above = {them for m in imports(probe) if (them := model_package(m))
             and MODEL_LAYERS[them] > MODEL_LAYERS[me]}
    assert above == {"views", "ui"}


@pytest.mark.parametrize("path", sources(), ids=rel)
def test_streamlit_only_in_pages_the_entry_and_the_ui_glue(path):
    name = rel(path)
    if name.startswith(("pages/", "dashboard/ui/")) or owner(path) == "entry":
        return
    assert "streamlit" not in {top(m) for m in imports(path)}, \
        f"{name} imports Streamlit; only pages/, the entries and dashboard/ui/ may"


def sql_uses(path: Path) -> int:
    """How many SQL statements and ``.query(`` calls a file holds."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
             for v in node.values}
    n = 0
    for node in ast.walk(tree):
        if id(node) in parts:
            continue
        query = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "query"
        statement = isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and SQL.match(node.value)
        if query or statement:
            n += 1
        elif isinstance(node, ast.JoinedStr):
            head = "".join(v.value for v in node.values
                           if isinstance(v, ast.Constant) and isinstance(v.value, str))
            n += bool(SQL.match(head))
    return n


def test_sql_only_in_the_store_and_the_read_module():
    found = {}
    for path in sources():
        name = rel(path)
        if name.startswith("store/") or name == READ_MODULE:
            continue
        n = sql_uses(path)
        if n:
            found[name] = n
    grown = {k: v for k, v in found.items() if v > STILL_TO_MOVE.get(k, 0)}
    assert not grown, (f"SQL outside store/ and {READ_MODULE} (file: statements): {grown}. "
                       "Read through the model's door, or write through the store package.")
    gone = {k for k in STILL_TO_MOVE if found.get(k, 0) < STILL_TO_MOVE[k]}
    assert not gone, f"{sorted(gone)} now hold less SQL: lower STILL_TO_MOVE to match"


DOOR = "dashboard/measures/"


def read_uses(path: Path) -> set[str]:
    """The read module's functions a file calls (``_read.name`` or imported by name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, alias = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module == "dashboard.measures":
                alias |= {a.asname or a.name for a in node.names if a.name == "_read"}
            elif node.module == "dashboard.measures._read":
                names |= {a.name for a in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in alias:
            names.add(node.attr)
    return names


def test_only_the_door_reads_partner_rows():
    """Outside the door (``dashboard/measures/``) the read module gives boundaries,
    lookups and populations only (and access its catalogue of owners): never
    observations, points, coverage, periods or breakdowns."""
    from dashboard.measures import _read
    wrong = {}
    for path in sources():
        name = rel(path)
        if name.startswith(DOOR):
            continue
        allowed = set(_read.OPEN_READS) | (set(_read.ACCESS_READS)
                                           if name == "dashboard/access/__init__.py" else set())
        extra = read_uses(path) - allowed
        if extra:
            wrong[name] = sorted(extra)
    assert not wrong, f"partner rows read outside the door: {wrong}"
    assert read_uses(REPO / "dashboard/measures/__init__.py") >= {"figures", "coverage"}


def door_readers():
    import inspect

    import dashboard.measures as measures
    from dashboard.measures import catalogue, hexes, interventions
    for module in (measures, catalogue, hexes, interventions):
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ \
                    and not name.startswith("_") and "store" in inspect.signature(fn).parameters:
                yield f"{module.__name__}.{name}", inspect.signature(fn)


@pytest.mark.parametrize(("name", "signature"), list(door_readers()), ids=lambda x: str(x))
def test_every_reader_of_the_door_takes_the_viewer(name, signature):
    viewer = signature.parameters.get("viewer")
    assert viewer is not None and viewer.kind is viewer.KEYWORD_ONLY \
        and viewer.default is viewer.empty, f"{name} must take viewer=... (required)"


def test_the_sql_rule_catches_sql(tmp_path):
    """The detector itself: a query call, a plain statement and an f-string count."""
    probe = tmp_path / "probe.py"
    probe.write_text('s.query("x")\nA = "SELECT a FROM b"\nB = f"DELETE FROM {t} WHERE 1"\n'
                     'C = "select the region"\n')
    assert sql_uses(probe) == 3
