"""`--help` text shared by the subcommands: each ends with examples people can copy."""

from __future__ import annotations


def examples(*lines: str) -> str:
    """An argparse epilog: `examples:` then one command per line (the parser keeps the line breaks)."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)
