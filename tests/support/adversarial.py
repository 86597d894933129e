"""Outside text built to make a backtracking regex take quadratic time, and the plain paste it is measured
against (tests/perf/test_linear_time.py, bench/linear_parsing.py)."""

from __future__ import annotations

SIZE = 40_000


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def plain_paste(size: int = SIZE) -> str:
    """What a person pastes most often: prose over many lines, a few tags."""
    line = "Checkout fails at the payment step for some customers, and the page shows a blank error box. "
    return _repeat(line + "\n" + line + "priority=High ticketId=ZD-4242\n", size)


def adversarial_inputs(size: int = SIZE) -> dict[str, str]:
    """name -> a message of `size` characters aimed at one regex's weak spot."""
    inputs = {f"run of {char}": char * size for char in "`*_~"}
    inputs |= {
        "alternating *_": _repeat("*_", size),
        "alternating `*_~": _repeat("`*_~", size),
        "markup run then a letter": "*" * (size - 1) + "a",
        "tag-dense": _repeat("*ticketId*=`ZD-1` _priority_:~High~ ", size),
        "keys without values": _repeat("*ticketId* priority ", size),
        "long ticketId= run": _repeat("ticketId=", size),
        "ticketId= with spaces": _repeat("ticketId= ", size),
        "key then blanks": _repeat("priority" + " " * 200, size),
        "unclosed <@": _repeat("<@", size),
        "unclosed <http:": _repeat("<http:", size),
        "unclosed <": "<" * size,
        "entities": _repeat("&amp;&lt;", size),
        "token=' unclosed": _repeat("token='", size),
    }
    return inputs
