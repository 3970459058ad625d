"""ODA Dashboard model: plain Python that returns frames, pydeck decks and altair charts.

``LoaderError`` is re-exported so pages never import ``loaders``.
"""

from loaders import LoaderError

__all__ = ["LoaderError"]
