"""Views: the figures drawn for people and files.

Maps (``maps``, ``linework``, ``classify``), charts (``charts``, ``contrast``),
files (``export``) and the printable ward report (``report``). Each takes frames the
door (``measures``) and the analyses gave, and returns pydeck decks, altair charts,
frames or bytes; none reads the store.
"""
