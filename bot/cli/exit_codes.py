"""The one exit-code table of the `bugtracker` command."""

EXIT_OK = 0  # done
EXIT_REFUSED = 1  # refused or found nothing (link refused, not found), or a sync source failed
EXIT_USAGE = 2  # the command line itself is wrong (unknown command or filter, malformed id/priority/date)
EXIT_UNAVAILABLE = 3  # configuration missing or wrong (creating switched off too), or the store unreachable
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
