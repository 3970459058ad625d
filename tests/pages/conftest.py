"""AppTest helpers: run page files against the real store."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent.parent
PAGES = sorted(p.name for p in (REPO / "pages").glob("*.py"))


def app(path: str, timeout: float = 120, **params) -> AppTest:
    """An AppTest of ``path`` (relative to the repo) with URL query parameters."""
    at = AppTest.from_file(str(REPO / path), default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    return at


@pytest.fixture()
def run_page():
    """Run a page with query parameters and return the finished AppTest."""
    def run(path: str, **params) -> AppTest:
        return app(path, **params).run()
    return run
