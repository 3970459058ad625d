"""The view filter round-trips through the URL; bad parameters fall back with a notice."""

import pandas as pd
import pytest

from dashboard.filters import FilterError, ViewFilter, from_params, parse_period

MONTHS = [f"2022-{m:02d}" for m in range(1, 12)]
CATALOGUE = pd.DataFrame({"indicator": ["crime_all", "imd2019_rank"],
                          "denominator": ["population", None]})
PERIODS = {"crime_all": MONTHS, "imd2019_rank": ["2019"]}
DEFAULT = ViewFilter("avon_and_somerset", "ward", "crime_all", "2022-01", "2022-11", "rate")


def parse(params):
    return from_params(params, regions=["avon_and_somerset", "worcestershire"],
                       catalogue=CATALOGUE, periods_of=PERIODS.get, default=DEFAULT)


def test_a_view_round_trips_through_its_url_parameters():
    view = DEFAULT.with_(region="worcestershire", level="lsoa", period_start="2022-03",
                         period_end="2022-05", scheme="natural_breaks", classes=7)
    again, notices = parse(view.to_params())
    assert again == view and notices == []


@pytest.mark.parametrize(("params", "word"), [
    ({"region": "atlantis"}, "region"), ({"level": "county"}, "level"),
    ({"indicator": "'; drop table"}, "indicator"), ({"classes": "twelve"}, "classes"),
    ({"classes": "42"}, "classes"), ({"period": "2022-13:2022-14"}, "period"),
    ({"period": "2022-05:2022-01"}, "period"), ({"period": "yesterday"}, "period"),
    ({"scheme": "kmeans"}, "scheme"),
])
def test_each_malformed_parameter_falls_back_to_its_default_with_a_notice(params, word):
    view, notices = parse(params)
    assert view == DEFAULT
    assert len(notices) == 1 and f"'{word}'" in notices[0]


def test_rate_for_an_indicator_without_denominator_falls_back_to_value():
    view, notices = parse({"indicator": "imd2019_rank", "measure": "rate"})
    assert (view.indicator, view.measure, view.period) == ("imd2019_rank", "count", "2019:2019")
    assert "no population denominator" in notices[0]


def test_parse_period_is_inclusive_and_checked_against_the_data():
    assert parse_period("2022-03:2022-03", MONTHS) == ("2022-03", "2022-03")
    with pytest.raises(FilterError, match="2023-01 not in the data"):
        parse_period("2022-03:2023-01", MONTHS)


def test_search_areas_matches_every_word_in_name_or_code():
    view = pd.DataFrame({"area_code": ["E01000001", "E01000002", "E05000003"],
                         "area_name": ["Bristol 032A", "Bristol 032B", "Central"]})
    from dashboard.filters import search_areas
    assert search_areas(view, "bristol 032b") == ["E01000002"]
    assert search_areas(view, "E0100") == ["E01000001", "E01000002"]
    assert search_areas(view, "nowhere") == []


def test_hotspot_options_from_the_url_fall_back_one_by_one():
    from dashboard.filters import HOTSPOT_DEFAULTS, hotspot_options
    opts, notices = hotspot_options({"method": "lisa", "permutations": "499", "hex": "8"})
    assert opts == {**HOTSPOT_DEFAULTS, "method": "lisa", "permutations": 499, "hex": 8}
    assert notices == []
    opts, notices = hotspot_options({"method": "kriging", "permutations": "lots",
                                     "correction": "fdr", "hex": "12"})
    assert opts == {**HOTSPOT_DEFAULTS}
    assert len(notices) == 3
    assert "'method' was 'kriging'" in notices[0] and "['gi', 'lisa']" in notices[0]
    assert "'permutations' was 'lots'" in notices[1]


def test_a_link_cannot_ask_for_9999_permutations_on_hexagons():
    from dashboard.filters import MAX_HEX_PERMUTATIONS, hotspot_options
    opts, notices = hotspot_options({"hex": "9", "permutations": "9999"})
    assert opts["permutations"] == MAX_HEX_PERMUTATIONS and "at most 999" in notices[0]
    opts, notices = hotspot_options({"hex": "0", "permutations": "9999"})
    assert opts["permutations"] == 9999 and notices == []
