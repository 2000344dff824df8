"""SQLite reads answered in the event loop's own thread.

Through aiosqlite every statement is a hop to the connection's thread and
back: about 150 µs of CPU and, on a busy machine, a wait for that thread to
be scheduled, while the typical page query runs in 20-50 µs. A page with a
dozen queries spent most of its time on the hops. So a ``SELECT`` outside a
transaction first runs here, synchronously, on one connection kept for the
loop, within a small budget of work (SQLite VM instructions, counted by a
progress handler: the clock would count the time the machine gave to
others, and then call a quick query slow):

* a statement still running when the budget is spent (about 2 ms of
  SQLite's work) is interrupted (a SELECT has no effect to undo) and runs
  again on the aiosqlite pool, where a long read does not hold up the
  other requests; its SQL is remembered, so that shape goes straight to
  the pool next time;
* a statement that meets a lock (the connection never waits: timeout 0)
  also runs on the pool, which waits as before.

Writes never come here: they run in :func:`sigap.db.write_transaction`.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict

from piccolo.engine.sqlite import dict_factory

CHECK_EVERY = 1000  # SQLite VM instructions between two calls of the progress handler
BUDGET = 50  # calls: 50,000 instructions, 1.5-2 ms here; longer reads move to a thread
REMEMBERED = 512  # SQL texts known to need more than the budget


class InlineReader:
    def __init__(self, connection_kwargs: dict) -> None:
        self.connection = sqlite3.connect(**{**connection_kwargs, "timeout": 0})
        self.connection.row_factory = dict_factory
        self.connection.set_progress_handler(self._over_budget, CHECK_EVERY)
        self._checks = 0
        self._slow: OrderedDict[str, None] = OrderedDict()

    def _over_budget(self) -> bool:
        self._checks += 1
        return self._checks > BUDGET

    def wants(self, query: str) -> bool:
        return query.lstrip()[:6].upper() == "SELECT" and query not in self._slow

    def run(self, query: str, args) -> list[dict] | None:
        """The rows, or None when the statement must run on the pool instead."""
        self._checks = 0
        try:
            cursor = self.connection.execute(query, args or [])
            try:
                return cursor.fetchall()
            finally:
                cursor.close()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                self._slow[query] = None
                if len(self._slow) > REMEMBERED:
                    self._slow.popitem(last=False)
            return None  # interrupted, locked or broken: the pool runs it (and raises if broken)

    def close(self) -> None:
        self.connection.close()
