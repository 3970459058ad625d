"""Ward profile page: find a ward by name, postcode or link; every indicator, ranked."""


from tests.pages.conftest import app


def test_without_a_ward_the_page_says_how_to_choose_one():
    at = app("pages/profile.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Choose a ward" in i.value for i in at.info)


def test_a_link_opens_the_ward_with_every_indicator_ranked():
    at = app("pages/profile.py", ward="E05010892").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value == "Central"
    table = at.dataframe[0].value
    assert "Police: All crime and anti-social behaviour" in set(table["Indicator"])
    crime = table[table["Indicator"] == "Police: All crime and anti-social behaviour"].iloc[0]
    assert crime["Rank among wards"] == "1 of 255"
    assert "shows most need in" in at.markdown[0].value
    assert len(at.get("vega_lite_chart")) == 2  # the spine chart and the trend
    assert at.query_params["ward"] in ("E05010892", ["E05010892"])


def test_postcode_finds_the_ward_and_bad_postcodes_are_explained():
    at = app("pages/profile.py").run()
    at.text_input(key="pro_postcode").input("bs1 5lu").run()
    assert not at.exception
    assert at.header[0].value == "Central"
    at.text_input(key="pro_postcode").input("B1 1AA").run()
    assert any("B1 1AA is in West Midlands Combined Authority, not Avon and Somerset"
               in w.value for w in at.warning)
    at.text_input(key="pro_postcode").input("not a postcode").run()
    assert any("is not a UK postcode" in w.value for w in at.warning)


def test_an_unknown_ward_in_the_link_is_named():
    at = app("pages/profile.py", ward="E05999999").run()
    assert not at.exception
    assert any("'E05999999'" in w.value for w in at.warning)


def test_a_postcode_in_another_region_names_it_and_offers_to_switch():
    at = app("pages/profile.py", region="west_midlands_ca").run()
    at.text_input(key="pro_postcode").input("BS1 4DJ").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("BS1 4DJ is in Avon and Somerset, not West Midlands Combined Authority"
               in w.value for w in at.warning), [w.value for w in at.warning]
    switch = at.button(key="pro_switch_region")
    assert switch.label == "Switch to Avon and Somerset"
    switch.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="w_region").value == "avon_and_somerset"
    assert at.header[0].value == "Central"  # BS1 4DJ's ward, in the region it is in
    assert at.query_params["region"] in ("avon_and_somerset", ["avon_and_somerset"])
    assert at.query_params["ward"] in ("E05010892", ["E05010892"])


def test_a_postcode_in_no_region_set_up_names_its_district():
    at = app("pages/profile.py", region="west_midlands_ca").run()
    at.text_input(key="pro_postcode").input("M1 1AE").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("M1 1AE is in Manchester, not West Midlands Combined Authority" in w.value
               for w in at.warning), [w.value for w in at.warning]
    # Only the region of every district covers it: that is the one offered.
    assert at.button(key="pro_switch_region").label == "Switch to England and Wales"


def test_changing_region_drops_a_ward_of_the_old_region():
    at = app("pages/profile.py", region="avon_and_somerset", ward="E05010892").run()
    assert at.header[0].value == "Central"
    at.selectbox(key="w_region").select("west_midlands_ca").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["region"] in ("west_midlands_ca", ["west_midlands_ca"])
    assert "ward" not in at.query_params  # Central is a Bristol ward
    assert at.selectbox(key="pro_ward_pick").value is None  # no ward nobody chose
    assert any("Choose a ward" in i.value for i in at.info)
    # Back again: a ward picked in the new region stays while the region does.
    at.selectbox(key="pro_ward_pick").select("E05011151").run()
    assert at.query_params["ward"] in ("E05011151", ["E05011151"])
    at.radio(key="w_vintage").set_value(2011).run()
    assert at.query_params["ward"] in ("E05011151", ["E05011151"])
