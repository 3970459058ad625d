"""The command line, ``python -m dashboard ...``: the same model the pages use,
without a browser (``commands``)."""
