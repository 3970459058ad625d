"""Multi-agency overlap page: the overlap map and table, the index with its weights."""

import json

from tests.pages.conftest import app


def test_overlap_and_index_tabs_draw_with_legends_tables_and_a_chart():
    at = app("pages/overlap.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("deck_gl_json_chart")) == 2
    legends = [h.proto.body for h in at.get("html")]
    assert "Partners" in legends[0] and "Demand index" in legends[1]
    assert any("partners" in m.value for m in at.markdown)
    assert len(at.get("vega_lite_chart")) == 1
    top = at.dataframe[-1].value
    assert top["rank"].iloc[0] == 1 and top["in_top"].between(0, 1).all()


def test_weights_change_the_index_and_one_indicator_is_an_empty_state():
    at = app("pages/overlap.py").run()
    first = at.dataframe[-1].value["area_code"].tolist()[:5]
    at.slider(key="ovl_w_crime_all").set_value(0.0).run()
    assert not at.exception
    spec = json.loads(at.get("deck_gl_json_chart")[1].proto.json)
    assert spec["layers"]
    assert at.dataframe[-1].value["area_code"].tolist()[:5] != first
    at.multiselect(key="ovl_indicators").set_value(["crime_all"]).run()
    assert not at.exception
    assert any("at least two indicators" in i.value for i in at.info)
