"""moto's TransactWriteItems, one table backup a transaction instead of one an item.

moto backs up each table a transaction touches before writing, to put it back if any condition fails. It
takes that backup (a deep copy of the whole table) once per item of the transaction, all before the first
write, so the copies are alike: a link moving 40 records (122 actions) copied the table 100 times for one
request, and the contract tests' DynamoDB set-ups spent most of their time there. `install()` makes the
backup loop copy each table once per transaction; what is backed up, what is written and what a failed
condition puts back are moto's own.

Transactions are taken one at a time (a lock), as each DynamoDB request is atomic: the tests' stores already
send one request at a time (tests/conftest.py's AtomicCalls, tests/support/moto_server.py).
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

from moto.dynamodb import models
from moto.dynamodb.models.table import Table

_LOCK = threading.Lock()


class _OneCopyPerTable:
    """Stands for the `copy` module inside moto's DynamoDB backend during one transaction."""

    def __init__(self) -> None:
        self._tables: dict[int, Table] = {}

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in self._tables:
            self._tables[id(value)] = copy.deepcopy(value, memo)
        return self._tables[id(value)]


def install() -> None:
    backend = models.DynamoDBBackend
    real = backend.transact_write_items
    if getattr(real, "one_backup_per_table", False):
        return
    if getattr(models, "copy", None) is not copy:
        raise RuntimeError(
            "moto's DynamoDB backend no longer backs up tables with copy.deepcopy: look at"
            " tests/support/moto_transactions.py again (or drop it)"
        )

    @functools.wraps(real)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            models.copy = _OneCopyPerTable()  # type: ignore[assignment]
            try:
                return real(self, transact_items)
            finally:
                models.copy = copy

    transact_write_items.one_backup_per_table = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
