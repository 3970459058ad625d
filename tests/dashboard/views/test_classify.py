"""Classes and colours: mapclassify bins, polarity-aware palette, a No data class."""

import numpy as np
import pandas as pd
import pytest

from dashboard.views.classify import NO_DATA, YLORRD, classify


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks", "equal_interval"])
def test_every_area_gets_a_class_and_the_legend_counts_add_up(scheme):
    values = pd.Series(np.r_[np.arange(100.0), [np.nan] * 3])
    c = classify(values, scheme, 5, "high_is_bad")
    assert len(c.colours) == 103
    assert sum(e.count for e in c.legend) == 103
    assert c.legend[-1].label == "No data" and c.legend[-1].count == 3
    assert c.colours[-1] == NO_DATA
    assert c.colours[99] == YLORRD[5][-1]  # highest value, darkest colour
    assert c.colours[0] == YLORRD[5][0]


def test_low_is_bad_puts_the_darkest_colour_on_the_lowest_values():
    c = classify(pd.Series([1.0, 2, 3, 4, 5, 6]), "quantiles", 3, "low_is_bad")
    assert c.colours[0] == YLORRD[3][-1] and c.colours[-1] == YLORRD[3][0]


def test_fewer_distinct_values_than_classes_gives_fewer_classes():
    c = classify(pd.Series([0.0, 0, 0, 5, 5]), "quantiles", 5, "high_is_bad")
    assert len([e for e in c.legend if e.label != "No data"]) == 2
    assert sum(e.count for e in c.legend) == 5


def test_natural_breaks_on_a_large_set_is_deterministic():
    rng = np.random.default_rng(1)
    values = pd.Series(rng.gamma(2, 10, 30_000))
    a = classify(values, "natural_breaks", 6, "high_is_bad")
    b = classify(values, "natural_breaks", 6, "high_is_bad")
    assert a.bins == b.bins and a.bins[-1] == values.max()


def test_all_missing_is_one_no_data_class():
    c = classify(pd.Series([np.nan, np.nan]), "quantiles", 5, "high_is_bad")
    assert [(e.label, e.count) for e in c.legend] == [("No data", 2)]
