"""Functional rights and the audit log (SuperOffice's flow-admin and content-editor).

A store with no users is a single-user store: everyone may do everything.
Once a user is defined, ``FLOWCTL_USER`` (default: the operating-system
user) must name one, and each action needs its right:

=====================  ==========  ==============
action                 flow-admin  content-editor
=====================  ==========  ==============
view                   yes         yes
apply content          yes         yes
delete content         yes
apply, delete, roll    yes
back a flow
lifecycle              yes
manage users           yes
contacts and events    yes         yes
=====================  ==========  ==============

Managing users is the flow-admin's; with no users yet, the first one may be
added by anyone (that is how a store gets its first admin).
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Final

from flowctl.errors import Refused
from flowctl.store import AuditEntry, Store

FLOW_ADMIN: Final = "flow-admin"
CONTENT_EDITOR: Final = "content-editor"
ROLES: Final = (FLOW_ADMIN, CONTENT_EDITOR)

VIEW: Final = "view"
APPLY_CONTENT: Final = "apply content"
DELETE_CONTENT: Final = "delete content"
MANAGE_FLOWS: Final = "apply, delete or roll back a flow"
LIFECYCLE: Final = "activate, pause, resume or deactivate a flow"
MANAGE_USERS: Final = "manage users"
INTAKE: Final = "import contacts and record events"

RIGHTS: Final[dict[str, frozenset[str]]] = {
    FLOW_ADMIN: frozenset(
        {VIEW, APPLY_CONTENT, DELETE_CONTENT, MANAGE_FLOWS, LIFECYCLE, MANAGE_USERS, INTAKE}
    ),
    CONTENT_EDITOR: frozenset({VIEW, APPLY_CONTENT, INTAKE}),
}


def current_user() -> str:
    """Who acts: ``FLOWCTL_USER``, else the operating-system user."""
    name = os.environ.get("FLOWCTL_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def authorize(store: Store, right: str, user: str | None = None) -> str:
    """Check that the acting user has ``right``; returns the user's name.

    Raises :class:`Refused` naming the missing right.
    """
    user = user or current_user()
    users = store.users()
    if not users:
        return user
    role = users.get(user)
    if role is None:
        raise Refused(
            f"'{user}' is not a user of this store, which has users",
            hint=f"set FLOWCTL_USER to one of: {', '.join(sorted(users))}",
        )
    if right not in RIGHTS[role]:
        raise Refused(
            f"{user} ({role}) lacks the right to {right}",
            hint="ask a flow-admin to do it, or to give you the flow-admin role",
        )
    return user


def audit(
    store: Store, user: str, command: str, obj: str, at: datetime, detail: str | None = None
) -> None:
    """Write one entry to the audit log."""
    store.log(AuditEntry(at=at, user=user, command=command, object=obj, detail=detail))
