"""Parsing our own modules in tests, safe from CPython 3.11's shared AST-construction counter.

On 3.11, `ast.parse` keeps its recursion depth in per-interpreter state that another thread can move at
the same time (CPython gh-106905, fixed in 3.12): the traceback module parses source lines to draw its
carets, so a background thread of an earlier test logging an exception can make a parse here fail with
`SystemError: AST constructor recursion depth mismatch`. That error says nothing about the source, so the
parse is simply run again; any other error (a real syntax error) is raised at once."""

from __future__ import annotations

import ast

_ATTEMPTS = 5


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    for attempt in range(_ATTEMPTS):
        try:
            return ast.parse(source, filename=filename)
        except SystemError as error:
            if "recursion depth mismatch" not in str(error) or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
