"""``python -m dashboard ...``: the command line (``dashboard.cli.commands``)."""

import sys

from dashboard.cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
