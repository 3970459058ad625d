"""AppTest helpers: run page files against the real store."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent.parent
PAGES = sorted(p.name for p in (REPO / "pages").glob("*.py"))


def app(path: str, timeout: float = 120, user: str | None = "t_analyst", **params
        ) -> AppTest:
    """An AppTest of ``path`` (relative to the repo) with URL query parameters, signed
    in as ``user`` (an analyst by default, who sees LSOAs; None for the public)."""
    at = AppTest.from_file(str(REPO / path), default_timeout=timeout)
    if user:
        at.session_state["signed_in"] = user
        at.session_state["last_seen"] = time.time()
    for key, value in params.items():
        at.query_params[key] = value
    return at


@pytest.fixture()
def run_page():
    """Run a page with query parameters and return the finished AppTest."""
    def run(path: str, user: str | None = "t_analyst", **params) -> AppTest:
        return app(path, user=user, **params).run()
    return run
