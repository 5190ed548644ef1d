"""Operating flows against a store: apply, lifecycle, intake, views, rights.

Each capability is a plain function over a :class:`~flowctl.store.Store`
that returns data; the CLI renders it. Changes are checked against the
acting user's rights and written to the audit log (:mod:`.rights`).
"""
