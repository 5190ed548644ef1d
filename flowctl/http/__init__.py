"""The HTTP side of flowctl: event and form intake, open and click tracking,
one-click unsubscribe, health and metrics.

``flowctl serve`` runs it alone and ``flowctl daemon --http`` beside the
daemon's clock; both take ``[http]`` from ``flowctl.toml``. The endpoints are
described by the OpenAPI document the server publishes at ``/openapi.json``
(:mod:`flowctl.http.openapi`):

- ``POST /v1/events``: one event or a JSON array of them (spec §11), with a
  bearer token; ``202`` with counts, a bad item reported by its index.
- ``POST /v1/forms/{form}``: a website form (urlencoded or JSON) records
  ``form_submitted`` and upserts the contact by e-mail.
- ``GET /t/o/{token}``, ``GET /t/c/{token}``: the open pixel and tracked
  links; ``GET|POST /u/{token}``: unsubscribe (RFC 8058 one-click).
- ``GET /healthz``, ``GET /metrics`` (Prometheus text).

Only :mod:`~flowctl.http.tokens` and :mod:`~flowctl.http.tracking` are used
outside the server (the daemon signs links when it renders e-mails); they
need nothing but the standard library, so the daemon never loads Starlette
unless it serves HTTP itself.
"""
