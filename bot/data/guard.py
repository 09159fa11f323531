"""Watching the database while the coach runs: its file, and writes waiting for disk space.

SQLite keeps writing to the file it opened even once it was deleted, or once another file was
put at its path: nothing it writes after that would ever be read again, and the next start
would greet everyone as new. So every PERIOD_S seconds (and before every turn's commit, in
bot/data/store.py) the open file is compared with the path; when they differ `watch` raises
StorageLost and the command line stops the coach with a CRITICAL line and exit status 3.

Writes that wait for disk space (bot/data/store.py) are tried again here too, so they are saved
soon after room comes back even when nobody says anything; and the ledger of handled updates is
pruned of rows no platform would deliver again.
"""
from __future__ import annotations

import logging

from bot.clock import Clock
from bot.data.store import Store, is_full
from bot.data.updates import UpdateLedger

log = logging.getLogger(__name__)

PERIOD_S = 1.0  # real seconds between checks
PRUNE_EVERY_S = 3600.0  # real seconds between prunings of the ledger


class StorageGuard:
    """Checks the database file, retries waiting writes, prunes the ledger."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.ledger = UpdateLedger(store)

    async def watch(self) -> None:
        """Runs as long as the coach does; raises StorageLost when the file is gone."""
        since_pruned = PRUNE_EVERY_S
        while True:
            self.store.check_file()
            self.store.flush_pending()
            if since_pruned >= PRUNE_EVERY_S:
                self._prune()
                since_pruned = 0.0
            await self.clock.sleep_real(PERIOD_S)
            since_pruned += PERIOD_S

    def _prune(self) -> None:
        if self.store.in_transaction:
            return  # a turn is open (it will be done in an hour)
        try:
            pruned = self.ledger.prune(self.clock.now())
        except Exception as exc:  # a full disk: next time
            if not is_full(exc):
                raise
            return
        if pruned:
            log.info("forgot %d platform updates handled long ago", pruned)
