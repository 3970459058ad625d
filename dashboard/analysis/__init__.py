"""Analysis: what the figures say, beyond the figures themselves.

Hot spots (``hotspots``: Getis-Ord Gi* and Local Moran's I; ``randomisation``: Gi*
of many periods in one pass), how they change (``emerging``), where partners' hot
spots coincide (``overlap``), whether a hot spot map would have pointed to the next
period's demand (``backtest``), and one ward against its peers (``profile``).
``hotspot_views`` is the one path from a view to its hot spots, for the Hotspots
page and the command line. Every figure comes through the door (``measures``).
"""
