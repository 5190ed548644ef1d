"""The daemon: runs flows for real against the store.

:class:`~flowctl.daemon.worker.Worker` claims events and due participants
in batches and advances them with the engine, committing each batch in one
transaction (:mod:`~flowctl.daemon.effects` says what a batch writes).
:class:`~flowctl.daemon.service.Daemon` adds message delivery and the
retention purge, run once (``flowctl daemon --once``) or on APScheduler's
clock (:func:`~flowctl.daemon.service.serve`).
"""

from flowctl.daemon.service import Daemon, serve
from flowctl.daemon.worker import Stats, Worker

__all__ = ["Daemon", "Stats", "Worker", "serve"]
