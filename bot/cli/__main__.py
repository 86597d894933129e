"""`python -m bot.cli`: the same as the `bugtracker` command."""

import sys

from bot.cli import main

if __name__ == "__main__":  # imported (an import check), it runs nothing
    sys.exit(main())
