"""About the data: sources, vintages, methods and attribution."""

import streamlit as st

from dashboard.measures import catalogue as cat_module
from dashboard.ui import cached, controls, session, widgets

widgets.page_setup()
st.title("About the data")
controls.region_picker()
v = session.version()
info = session.store().info()

st.markdown("""
### Attribution
Contains public sector information licensed under the
[Open Government Licence v3.0](https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/).

Contains OS data © Crown copyright and database right 2019–2025. (This applies to all
boundary geometry and to the lookups derived from it.)

Contains National Statistics data © Crown copyright and database right 2019–2025.

Police data: data.police.uk, Open Government Licence v3.0.
""")

st.markdown("""
### Methods
- **Geography.** LSOAs are the unit of data. Regions are sets of local authority
  districts (config/regions.toml). The 2011 vintage uses LSOA 2011 with December 2019
  wards (WD19) through the ONS best-fit lookup LSOA11 → WD19 → LAD19; the 2021 vintage
  uses LSOA 2021 with WD24 codes drawn on May 2025 ward boundaries.
- **Wards are best-fit aggregates of LSOAs.** For counts, ward figures are the sums of
  their LSOAs' counts and of their populations; rates are computed after summing, never
  averaged. For scores, ranks and published rates, a ward or region takes the
  population-weighted mean of its LSOAs (MHCLG's "average score" method).
- **Rates** are per 1,000 residents: mid-2018 population estimates for LSOA 2011,
  Census 2021 usual residents for LSOA 2021.
- **Zeros and gaps.** police.uk files cover their force's districts, so an LSOA there
  with no rows in a month had no recorded crime (zero). Areas a source does not cover
  are shown as *No data*, never as zero.
- **police.uk rows with no LSOA code** (locations that could not be matched to an area)
  are not counted, but every one is kept with its reason; the build prints a summary per
  file, and the counts below show how many.
- **Classes** come from mapclassify: quantiles, natural breaks (Fisher–Jenks) or equal
  interval. Colours are ColorBrewer YlOrRd (colour-blind safe), darkest where need is
  greatest, following each indicator's polarity.
- **Rank** is within the region shown, 1 being the area of most need.
- **Vintages.** Data published on the other LSOA vintage is converted through the ONS
  LSOA 2011 → 2021 exact-fit lookup: unchanged and merged LSOAs map whole, and a split
  LSOA shares its count among its parts by population (Census 2021 going to 2021,
  mid-2018 going to 2011), keeping whole counts whole and totals exact. Scores take
  population-weighted means. The map says how much was converted.
- **Hotspots.** Getis-Ord Gi* (esda `G_Local`, binary weights, the area itself
  included) and Local Moran's I (esda `Moran_Local`, row-standardised weights) on queen
  contiguity built from the analysis boundaries, or on H3 hexagons that share an edge.
  Inference is by conditional permutation (999 by default, fixed seed). The confidence
  classes use esda's pseudo p-value (the share of permutations at least as extreme, in
  the direction observed), with Benjamini–Hochberg false-discovery-rate control at each
  level unless switched off. Rates are smoothed by empirical Bayes before testing, so a
  small population cannot make a hot spot by chance. Areas without data are left out;
  an area left with no neighbour (the Isles of Scilly, say) is shown as *No neighbours*.
- **Emerging hot spots.** Gi* is run on every month; a month counts for an area when it
  is a hot (cold) spot at 90 % or more. Each area's monthly z-scores get a Mann–Kendall
  trend test, and the area is classed new, consecutive, intensifying, persistent,
  diminishing, sporadic, oscillating or historical, as in ArcGIS's Emerging Hot Spot
  Analysis. At least 10 months are needed.
- **Disclosure control.** Counts from 1 to k-1 are suppressed (k per indicator: 0 for
  openly published data such as police.uk, 5 by default for partner data); where a
  district would have a single suppressed cell, its smallest other cell is suppressed
  too, and rates and ranks of suppressed cells are hidden. Suppressed cells are shown
  as such, never as zero, on every map, table and export. Small counts are hidden where
  they are stored (an LSOA in one month), before anything is added up: every total over
  months, wards, districts and the region, and every monthly trend, counts each hidden
  cell as one stand-in: the expected value of a hidden count given the indicator's
  visible counts (a negative binomial fitted to the counts from k up), never its true
  value, and the midpoint k/2 where too few counts are visible to fit. Such totals are
  estimates (``estimated`` says how many stand-ins each holds), and no
  difference between two views (overlapping periods, a ward less its LSOAs, a district
  or region less the rest) can recover a hidden count.
- **Composite demand index.** Each indicator becomes the area's need percentile (0 least
  need, 100 most); the index is the weighted mean, and each indicator's contribution is
  its weight times its percentile over the sum of the weights.
- **Partner files** are validated row by row: good rows load, and every other row is
  kept with its row, column and reason (Partner data page).
""")

st.markdown("### Indicators and sources")
cat = cached.catalogue(v)
st.dataframe(cat[["indicator", "title", "partner", "unit", "polarity", "geography", "vintage",
                  "first_period", "last_period", "source", "licence", "description"]],
             hide_index=True, width="stretch")

st.markdown("### Rows kept aside when loading")
kept = cat_module.load_log(session.store(), viewer=session.viewer())
st.dataframe(kept, hide_index=True, width="stretch")

st.caption(f"Store built {info.get('built_at', '?')} UTC in {info.get('build_seconds', '?')} s "
           "from the open data files above.")  # never the server's paths
