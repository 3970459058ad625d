"""Errors raised while reading source files and configuration.

The hierarchy is the store package's (:mod:`store.errors`): a file the loaders
refuse, a wrong setting and a store that cannot be opened are all a
:class:`LoaderError` naming its source and problems, so one ``except`` shows any
of them.
"""

from __future__ import annotations

from store.errors import ConfigError, SourceError, StoreMissingError

LoaderError = SourceError

__all__ = ["ConfigError", "LoaderError", "StoreMissingError"]
