"""`python -m bot`: the Slack bot (Socket Mode) or, with no Slack tokens, the console."""

import sys

from bot.run import main

sys.exit(main())
