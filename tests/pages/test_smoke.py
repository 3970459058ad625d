"""Every page runs without exception for every region preset (AppTest smoke test)."""

import pytest

from loaders import load_regions
from tests.pages.conftest import PAGES

FILES = ["streamlit_app.py"] + [f"pages/{p}" for p in PAGES]


@pytest.mark.parametrize("region", list(load_regions()))
@pytest.mark.parametrize("path", FILES)
def test_page_runs_for_every_region(run_page, path, region):
    at = run_page(path, region=region, level="lsoa")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    if path not in ("pages/signin.py", "pages/admin.py", "pages/accessibility.py"):
        # the other pages have a region
        assert at.session_state["view"].region == region
