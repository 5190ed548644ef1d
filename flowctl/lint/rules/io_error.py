"""io-error: a file that cannot be read as YAML text.

An unreadable path (permissions), a directory given where a file was
expected, a binary file, or a file that is not UTF-8.

Fails::

    $ flowctl validate logo.png      # a binary file, not YAML text

Passes::

    $ flowctl validate flows/welcome.yaml
"""

from __future__ import annotations

ID = "io-error"
LEVEL = "error"
KINDS: tuple[str, ...] = ()
