"""Hotspots page: classes on the map and legend, the summary, the table, emerging mode."""

import json

from tests.dashboard.analysis.test_backtest import markup_left
from tests.pages.conftest import app


def deck(at):
    return json.loads(at.get("deck_gl_json_chart")[0].proto.json)


def legend(at):
    return [h.proto.body for h in at.get("html")][0]


def test_default_is_gi_star_on_ward_rates_with_classes_summary_and_table():
    at = app("pages/hotspots.py").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = deck(at)
    areas = next(layer for layer in spec["layers"] if layer["id"] == "areas")
    assert len({o["code"] for o in areas["data"]}) == 257
    assert "Getis-Ord Gi*" in at.subheader[0].value
    text = legend(at)
    assert "Not significant" in text and ("Hot spot" in text or "Cold spot" in text)
    summary = at.markdown[0].value
    assert "cluster" in summary
    table = at.dataframe[0].value
    assert set(table["class"]) <= {"Hot spot, 99% confidence", "Hot spot, 95% confidence",
                                   "Hot spot, 90% confidence", "Cold spot, 90% confidence",
                                   "Cold spot, 95% confidence", "Cold spot, 99% confidence"}
    assert list(table["z"]) == sorted(table["z"], reverse=True)


def test_local_moran_on_lsoas_shows_cluster_classes():
    at = app("pages/hotspots.py").run()
    at.segmented_control(key="hot_level").set_value("lsoa").run()
    at.segmented_control(key="hot_method").set_value("lisa").run()
    assert not at.exception
    assert "Local Moran" in at.subheader[0].value
    assert "High-high cluster" in legend(at)
    areas = next(layer for layer in deck(at)["layers"] if layer["id"] == "areas")
    assert len({o["code"] for o in areas["data"]}) == 1005


def test_changing_indicator_redraws_and_columns_tilt_the_map():
    at = app("pages/hotspots.py").run()
    at.selectbox(key="hot_indicator").set_value("crime_burglary").run()
    at.toggle(key="hot_columns").set_value(True).run()
    assert not at.exception
    assert "Burglary" in at.subheader[0].value
    spec = deck(at)
    assert any(layer["@@type"] == "ColumnLayer" for layer in spec["layers"])
    assert spec["initialViewState"]["pitch"] == 45


def test_emerging_mode_classes_each_ward_and_needs_ten_months():
    at = app("pages/hotspots.py").run()
    at.radio(key="hot_mode").set_value("emerging").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Emerging hot spots" in at.subheader[0].value
    assert "No pattern detected" in legend(at)
    at.select_slider(key="hot_period").set_value(("2022-03", "2022-08")).run()
    assert not at.exception
    assert any("at least 10 periods" in w.value for w in at.warning)


def test_police_points_on_h3_hexagons():
    at = app("pages/hotspots.py").run()
    at.radio(key="hot_shape").set_value("hexagons").run()
    at.select_slider(key="hot_res").set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    areas = next(layer for layer in deck(at)["layers"] if layer["id"] == "areas")
    codes = {o["code"] for o in areas["data"]}
    assert len(codes) > 500 and all(len(c) == 15 for c in codes)
    assert any("H3 hexagon" in c.value for c in at.caption)


def test_a_link_reproduces_the_hotspot_choices_and_bad_ones_are_named():
    at = app("pages/hotspots.py", method="lisa", permutations="199", correction="none",
             level="lsoa").run()
    assert not at.exception
    assert "Local Moran" in at.subheader[0].value
    assert "199 conditional permutations" in " ".join(c.value for c in at.caption)
    assert at.query_params["method"] in ("lisa", ["lisa"])
    at = app("pages/hotspots.py", method="kriging").run()
    assert not at.exception
    assert any("'method' was 'kriging'" in w.value for w in at.warning)
    assert "Getis-Ord Gi*" in at.subheader[0].value


def test_zoom_to_the_hot_spots_opens_the_map_closer():
    at = app("pages/hotspots.py", level="lsoa", measure="count").run()
    whole = deck(at)["initialViewState"]
    at.toggle(key="hot_focus").set_value(True).run()
    assert not at.exception
    near = deck(at)["initialViewState"]
    assert near["zoom"] > whole["zoom"] + 1
    assert abs(near["longitude"] - -2.59) < 0.2 and abs(near["latitude"] - 51.46) < 0.2


def test_a_clicked_area_links_to_its_ward_profile():
    at = app("pages/hotspots.py", level="lsoa")
    at.session_state["hot_deck"] = {"selection": {"indices": {"areas": [0]}, "objects": {
        "areas": [{"code": "E01014540", "name": "Bristol 032B"}]}}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    links = [m.value for m in at.markdown if "/profile?" in m.value]
    assert links and "ward=E05010892" in links[0] and "Central" in links[0]


def test_how_well_does_this_predict_backtests_every_method():
    # Local Moran's p-values are permutation counts: with 99 none is below 0.01, too
    # coarse for FDR control over the region's wards to pass any.
    at = app("pages/hotspots.py", permutations="999").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "How well does this predict?" in [s.value for s in at.subheader]
    at.slider(key="hot_bt_train").set_value(8)
    at.toggle(key="hot_bt_run").set_value(True)
    at = at.run()
    assert not at.exception, [e.value for e in at.exception]
    verdict = next(m.value for m in at.markdown if m.value.startswith("Over "))
    assert verdict.startswith("Over 3 test windows, **")
    assert "median PAI" in verdict and "- **The rule**: the highest median PAI" in verdict
    assert markup_left(verdict) == [], verdict  # no stray Markdown in what is shown
    spread = at.dataframe[-1].value
    assert set(spread["method"]) == {"Highest counts", "Highest rates per 1,000",
                                     "Gi* hot spots (95%, FDR)", "LISA high-high clusters"}
    assert (spread["windows"] == 3).all()


def test_hot_spots_only_hides_cold_spots_from_map_legend_and_table():
    at = app("pages/hotspots.py").run()
    at.toggle(key="hot_hot_only").set_value(True)
    at = at.run()
    assert not at.exception
    assert "Cold spot" not in legend(at)
    assert not at.dataframe[0].value["class"].str.startswith("Cold").any()


def test_hexagons_are_counted_not_rated_and_named_by_their_ward():
    at = app("pages/hotspots.py").run()
    assert at.radio(key="hot_measure").options == ["Count", "Rate per 1,000 residents"]
    at.radio(key="hot_shape").set_value("hexagons").run()
    at.select_slider(key="hot_res").set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    measure = at.radio(key="hot_measure")
    assert measure.options == ["Count"] and "no population" in measure.help
    areas = next(layer for layer in deck(at)["layers"] if layer["id"] == "areas")
    assert all(o["name"].startswith("Hexagon in ") for o in areas["data"])
    assert any(o["name"] == "Hexagon in Lawrence Hill, Bristol, City of" for o in areas["data"])
    at.radio(key="hot_shape").set_value("areas").run()
    assert len(at.radio(key="hot_measure").options) == 2  # areas have residents


def test_table_tooltip_and_caption_give_the_p_and_q_each_class_follows_from():
    at = app("pages/hotspots.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert {"z", "p_normal", "q_fdr", "class"} <= set(table.columns)
    assert (table["q_fdr"] >= table["p_normal"]).all()
    captions = " ".join(c.value for c in at.caption)
    assert "two-sided normal p of the z-score" in captions
    assert "The class follows from q: 99 % at 0.01, 95 % at 0.05, 90 % at 0.10" in captions
    areas = next(layer for layer in deck(at)["layers"] if layer["id"] == "areas")
    tips = [o["x"] for o in areas["data"] if o["x"] != "not tested"]
    assert tips and all(t.startswith("z = ") and ", p = " in t and ", q = " in t
                        for t in tips)
    at = app("pages/hotspots.py", correction="none").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "q_fdr" not in at.dataframe[0].value.columns
    assert "The class follows from p" in " ".join(c.value for c in at.caption)


def test_local_moran_says_how_many_areas_reached_the_permutation_floor():
    at = app("pages/hotspots.py", method="lisa", level="lsoa", measure="count").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption)
    assert "pseudo p from conditional permutations" in captions
    assert "LSOAs reached the permutation floor (p = 1/1,000)" in captions


def test_a_backtest_with_one_possible_window_states_its_months_instead_of_sliders():
    """Three months leave one training and one test length: a slider with no range
    stopped the page; the lengths are stated instead."""
    at = app("pages/hotspots.py", region="avon_and_somerset", level="ward",
             indicator="crime_all", period="2022-01:2022-03").run()
    assert not at.exception, [e.value for e in at.exception]
    said = [c.value for c in at.caption]
    assert "Training months: 2" in said and "Test months: 1" in said
