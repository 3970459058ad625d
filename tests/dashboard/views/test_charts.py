"""Chart and headline text: any catalogue unit reads in words, never a crash."""

import pandas as pd
import pytest

from dashboard.views import charts
from loaders.ingest import UNITS


@pytest.mark.parametrize("unit", [*UNITS, "a unit from an older store"])
def test_every_unit_a_partner_may_declare_has_a_headline(unit):
    row = {"unit": unit, "value": 1.5, "rate_per_1000": float("nan"),
           "period_start": "2022-01", "period_end": "2022-02", "areas_with_data": 3,
           "areas": 4}
    assert charts.headline_value(row)
    assert "2022-01 to 2022-02" in charts.headline_help(row)


def test_ranking_is_a_table_with_escaped_names_and_bars_in_proportion():
    import pandas as pd

    from dashboard.views.charts import ranking_html
    top = pd.DataFrame({"area_code": ["E1", "E2", "E3"], "rank": [1, 2, 3],
                        "area_name": ["<b>Hill</b>", "Vale", "Moor"],
                        "lad_name": ["North", None, "South"],
                        "rate_per_1000": [40.0, 20.0, float("nan")]})
    out = ranking_html(top, caption="The 3 wards of most need")
    assert out.count("<tr>") == 4  # a header row and one per area
    assert "<caption>The 3 wards of most need</caption>" in out
    assert "&lt;b&gt;Hill&lt;/b&gt;" in out and "<b>Hill" not in out
    assert "width:70.0%" in out and "width:35.0%" in out  # 40 is the longest bar, 20 half
    assert "40.00" in out and "no data" in out
    assert "<th scope='row'>Vale" in out  # each row is named by its area


def test_trend_figures_are_given_as_a_table_too():
    import pandas as pd

    from dashboard.views.charts import trend_chart, trend_table
    trend = pd.DataFrame({"period": ["2022-02", "2022-01", "2022-01", "2022-02"],
                          "area": ["Central", "Central", "Region", "Region"],
                          "figure": [3.0, 1.0, 2.0, 4.0]})
    table = trend_table(trend)
    assert list(table.columns) == ["Month", "Central", "Region"]
    assert table.values.tolist() == [["2022-01", 1.0, 2.0], ["2022-02", 3.0, 4.0]]
    assert "table below" in trend_chart(trend, "Rate").to_dict()["description"]


def test_two_indicators_with_the_same_short_title_get_a_panel_each():
    """A partner's "Burglary" and police.uk's "Police: Burglary" both shorten to
    "Burglary": drawn in one panel their months interleaved into a saw-tooth."""
    monthly = pd.DataFrame({"indicator": ["burglary", "crime_burglary"] * 2,
                            "period_start": ["2022-01", "2022-01", "2022-02", "2022-02"],
                            "value": [500.0, 40.0, 520.0, 45.0]})
    titles = {"burglary": "Burglary", "crime_burglary": "Police: Burglary"}
    labels = charts.panel_titles(monthly["indicator"], titles, short=True)
    assert labels == {"burglary": "Burglary (burglary)",
                      "crime_burglary": "Burglary (crime_burglary)"}
    spec = charts.monthly_trends(monthly, titles).to_dict()
    drawn = {row["title"] for row in next(iter(spec["datasets"].values()))}
    assert len(drawn) == 2
    assert len(charts.monthly_table(monthly, titles)) == 2
