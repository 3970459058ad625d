"""Errors that name what could not be used: a file, a setting, a URL parameter, the store.

Every error names its source (a file, or a configuration key) and carries the
list of problems found, so a page or the command line can show them all at once
instead of stopping at the first. The store package is the bottom layer, so the
hierarchy lives here; ``loaders.errors`` names the loaders' own.
"""

from __future__ import annotations


class SourceError(Exception):
    """A source file, setting or the store could not be used.

    Parameters
    ----------
    source : str
        The file, URL parameter or configuration key that is wrong.
    problems : list of str
        One line per problem, each saying where (row, column) and why.
    """

    def __init__(self, source: str, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.source = source
        self.problems = list(problems)
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        """One readable message: the source, then each problem."""
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        lines = "\n".join(f"- {p}" for p in self.problems)
        return f"{self.source}: {len(self.problems)} problems\n{lines}"


class ConfigError(SourceError):
    """A configuration file or value is wrong."""


class StoreMissingError(SourceError):
    """The store has not been built, or is older than the code that reads it."""
