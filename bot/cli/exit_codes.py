"""The one exit-code table of the `bugtracker` command."""

EXIT_OK = 0  # done
EXIT_REFUSED = 1  # refused or found nothing (bad id, link refused, not found), or a sync source failed
EXIT_USAGE = 2  # the command line itself is wrong
EXIT_UNAVAILABLE = 3  # configuration missing or wrong, or the store unreachable
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
