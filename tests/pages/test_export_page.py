"""Export page: the current view in each format, its metadata, a share link, bad links."""


from tests.pages.conftest import app


def test_default_export_is_the_current_view_as_csv_with_metadata():
    at = app("pages/export.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="exp_indicators").value == ["crime_all"]
    buttons = at.get("download_button")
    assert len(buttons) == 2  # the CSV and its metadata sidecar
    link = at.code[0].value
    assert "region=avon_and_somerset" in link and "indicators=crime_all" in link


def test_more_indicators_and_another_format():
    at = app("pages/export.py").run()
    at.multiselect(key="exp_indicators").select("imd2019_rank").run()
    at.radio(key="exp_format").set_value("xlsx").run()
    assert not at.exception
    assert len(at.get("download_button")) == 1  # metadata is inside the workbook
    assert "2 indicators" in at.markdown[0].value
    assert at.query_params["format"] in ("xlsx", ["xlsx"])


def test_the_share_link_follows_the_choices_and_each_indicator_says_its_period():
    """The link is rebuilt on every choice (it kept its first value), and an
    indicator without the chosen months is listed with its own period."""
    at = app("pages/export.py").run()
    first = at.code[0].value
    at.multiselect(key="exp_indicators").select("imd2019_rank").run()
    link = at.code[0].value
    assert link != first and "indicators=crime_all%2Cimd2019_rank" in link
    assert link.startswith("/export?")  # no browser address here: the path and query
    said = " ".join(m.value for m in at.markdown)
    assert "Each indicator is exported for its own period" in said
    assert "2019" in said


def test_a_link_with_bad_indicators_and_format_is_explained():
    at = app("pages/export.py", indicators="crime_all,nonsense", format="pdf").run()
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "['nonsense']" in warnings and "'pdf'" in warnings
    assert at.multiselect(key="exp_indicators").value == ["crime_all"]


def test_no_indicator_is_an_empty_state_not_an_error():
    at = app("pages/export.py").run()
    at.multiselect(key="exp_indicators").set_value([]).run()
    assert not at.exception
    assert any("at least one indicator" in i.value for i in at.info)

