"""Chart and headline text: any catalogue unit reads in words, never a crash."""

import pytest

from dashboard import charts
from loaders.ingest import UNITS


@pytest.mark.parametrize("unit", [*UNITS, "a unit from an older store"])
def test_every_unit_a_partner_may_declare_has_a_headline(unit):
    row = {"unit": unit, "value": 1.5, "rate_per_1000": float("nan"),
           "period_start": "2022-01", "period_end": "2022-02", "areas_with_data": 3,
           "areas": 4}
    assert charts.headline_value(row)
    assert "2022-01 to 2022-02" in charts.headline_help(row)
