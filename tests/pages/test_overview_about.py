"""Overview and About pages: headline figures, top areas, freshness, sources and attribution."""


from tests.pages.conftest import app


def test_overview_shows_headlines_per_partner_top_ten_and_freshness(store, regions):
    at = app("pages/overview.py").run()
    assert not at.exception
    labels = {m.label: m.value for m in at.metric}
    assert "All crime and anti-social behaviour" in labels
    total = store.query(
        "SELECT sum(value) FROM observations o JOIN lsoa_ward l ON l.lsoa_code = o.area_code "
        "AND l.vintage = 2011 WHERE o.indicator = 'crime_all' AND list_contains(?, l.lad_code)",
        [list(regions["avon_and_somerset"].lads)]).iat[0, 0]
    assert labels["All crime and anti-social behaviour"] == f"{total:,.0f}"
    assert {"Police", "Health", "Council", "Context"} <= {m.value.strip("*") for m in at.markdown}
    assert len(at.get("vega_lite_chart")) == 1  # the monthly trends
    assert any("oda-rank" in h.proto.body and h.proto.body.count("<tr>") == 11
               for h in at.get("html"))  # the top ten, as a table
    # The trends' text alternative: each month's regional total in a table.
    table = at.dataframe[0].value.set_index("Indicator")
    assert table.loc["Police: All crime and anti-social behaviour"].sum() == total
    fresh = at.dataframe[-1].value
    assert {"Indicator", "Latest period", "Source"} <= set(fresh.columns)
    assert "2022-11" in set(fresh["Latest period"])


def test_overview_period_narrows_monthly_totals():
    at = app("pages/overview.py").run()
    before = {m.label: m.value for m in at.metric}
    at.select_slider(key="overview_period").set_value(("2022-03", "2022-03")).run()
    after = {m.label: m.value for m in at.metric}
    label = "All crime and anti-social behaviour"
    assert int(after[label].replace(",", "")) < int(before[label].replace(",", "")) / 5
    assert after["Index of Multiple Deprivation 2019 (rank)"] == \
        before["Index of Multiple Deprivation 2019 (rank)"]


def test_about_shows_attribution_sources_and_rows_kept_aside():
    at = app("pages/about.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for line in ("Contains public sector information licensed under the",
                 "Contains OS data © Crown copyright and database right",
                 "Contains National Statistics data © Crown copyright and database right",
                 "Police data: data.police.uk, Open Government Licence v3.0."):
        assert line in text
    catalogue = at.dataframe[0].value
    assert "crime_all" in set(catalogue["indicator"])
    kept = at.dataframe[1].value
    assert kept["rows_kept_aside"].sum() > 0


def test_about_shows_the_public_no_server_path(store, data):
    at = app("pages/about.py").run()
    assert not at.exception
    shown = " ".join([*(m.value for m in at.markdown), *(c.value for c in at.caption),
                      *(str(d.value.to_dict()) for d in at.dataframe)])
    for path in (str(data), str(data.resolve()), str(store.path.parent), "/work/", "/home/"):
        assert path not in shown, path
    assert "Store built" in shown


def test_the_accessibility_statement_says_what_does_not_yet_meet_the_standard():
    at = app("pages/accessibility.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for part in ("Accessibility statement for ODA Dashboard", "How accessible this website is",
                 "Enforcement procedure", "partially compliant", "WCAG", "2.2",
                 "Non-accessible content", "Preparation of this accessibility statement"):
        assert part in text, part
