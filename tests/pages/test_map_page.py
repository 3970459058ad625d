"""Map page behaviour: controls change the deck, legend and URL; bad links give notices."""

import json

from tests.pages.conftest import app


def deck(at):
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def test_default_map_is_ward_rates_for_avon_and_somerset_with_a_legend():
    at = app("pages/map.py").run()
    assert not at.exception
    spec = deck(at)
    assert len(spec["layers"][0]["data"]) >= 255
    legend = [h.proto.body for h in at.get("html")][0]
    assert "Rate per 1,000 residents" in legend and "No data" in legend
    assert "oda-rank" in at.get("html")[-1].proto.body  # the ranking of the areas of most need
    assert at.query_params["region"] == ["avon_and_somerset"] or \
        at.query_params["region"] == "avon_and_somerset"


def test_changing_level_indicator_and_classes_redraws_and_updates_the_url():
    at = app("pages/map.py").run()
    at.segmented_control(key="map_level").set_value("lsoa").run()
    at.selectbox(key="map_indicator").set_value("crime_burglary").run()
    at.slider(key="map_classes").set_value(7).run()
    assert not at.exception
    spec = deck(at)
    assert len({o["code"] for o in spec["layers"][0]["data"]}) == 1005
    view = at.session_state["view"]
    assert (view.level, view.indicator, view.classes) == ("lsoa", "crime_burglary", 7)
    legend = [h.proto.body for h in at.get("html")][0]
    assert legend.count("<span style='flex:1'>") == 7
    assert "Burglary" in at.subheader[0].value


def test_indicator_without_denominator_offers_only_its_value():
    at = app("pages/map.py", indicator="imd2019_rank", measure="rate").run()
    assert not at.exception
    assert any("no population denominator" in w.value for w in at.warning)
    assert at.radio(key="map_measure").options == ["Value (rank)"]
    assert "2019" in at.caption[0].value


def test_malformed_link_falls_back_with_a_visible_notice():
    at = app("pages/map.py", region="atlantis", period="2022-13:2022-99", classes="x").run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "'region'" in text and "'period'" in text and "'classes'" in text
    assert at.session_state["view"].region == "avon_and_somerset"


def test_a_single_month_link_reproduces_that_view():
    at = app("pages/map.py", region="worcestershire", level="ward", indicator="crime_drugs",
             period="2022-03:2022-03", measure="count", scheme="equal_interval",
             classes="4").run()
    assert not at.exception and not at.warning
    view = at.session_state["view"]
    assert view.period == "2022-03:2022-03" and view.scheme == "equal_interval"
    assert "2022-03" in at.subheader[0].value
    assert at.download_button(key="map_download") is not None


def test_finding_an_area_by_name_shows_its_figures():
    at = app("pages/map.py").run()
    at.selectbox(key="map_find_avon_and_somerset_ward").set_value("E05010892").run()
    assert not at.exception
    assert at.subheader[1].value == "Selected: Central"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rank in region"] == "1 of 255"
    assert any("/profile?region=avon_and_somerset&ward=E05010892" in m.value
               for m in at.markdown)


def test_national_lists_are_searched_before_picking():
    at = app("pages/map.py", region="england_and_wales", level="lsoa").run()
    assert at.selectbox(key="map_find_england_and_wales_lsoa").options == []
    at.text_input(key="map_search_england_and_wales_lsoa").input("bristol 032").run()
    options = at.selectbox(key="map_find_england_and_wales_lsoa").options
    assert options[:3] == ["Bristol 032A (E01014538)", "Bristol 032B (E01014540)",
                           "Bristol 032C (E01014542)"]
    assert all("bristol" in o.lower() and "032" in o for o in options)


def test_choosing_the_2021_vintage_converts_2011_data_and_says_how():
    at = app("pages/map.py", level="lsoa", vintage="2021").run()
    assert not at.exception
    assert at.session_state["view"].vintage == 2021
    assert any(c.value.startswith("Converted from LSOA11 to LSOA21") for c in at.caption)
    spec = deck(at)
    codes = {o["code"] for o in spec["layers"][0]["data"]}
    assert len(codes) == 1038  # the 2021 LSOAs of Avon and Somerset


def test_national_lsoa_2021_has_no_boundaries_and_says_so():
    at = app("pages/map.py", region="england_and_wales", level="lsoa", vintage="2021").run()
    assert not at.exception
    assert any("no LSOA boundaries of the 2021 vintage" in e.value for e in at.error)


def test_the_comparison_scheme_has_its_three_classes_and_no_class_count():
    at = app("pages/map.py").run()
    assert any(s.key == "map_classes" for s in at.slider)
    at.selectbox(key="map_scheme").set_value("compared").run()
    assert not at.exception
    assert not any(s.key == "map_classes" for s in at.slider)  # nothing to choose
    legend = [h.proto.body for h in at.get("html")][0]
    assert "similar" in legend.lower()


def test_changing_region_drops_the_old_region_s_ward_from_the_link():
    at = app("pages/map.py", region="avon_and_somerset", ward="E05010892").run()
    at.selectbox(key="w_region").select("worcestershire").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["region"] in ("worcestershire", ["worcestershire"])
    assert "ward" not in at.query_params
