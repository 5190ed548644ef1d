"""yaml-syntax: YAML that does not parse.

Covers malformed YAML, duplicate keys (each key may appear once in a
mapping), unknown tags, and alias bombs (documents whose aliases expand to an
absurd size, rejected quickly rather than expanded).

Fails::

    spec:
      steps:
        - id: a
         type: end          # bad indentation

Passes::

    spec:
      steps:
        - id: a
          type: end
"""

from __future__ import annotations

ID = "yaml-syntax"
LEVEL = "error"
KINDS: tuple[str, ...] = ()
