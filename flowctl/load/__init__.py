"""Reading flowctl YAML files: documents as plain data, positions on demand.

Valid files take the fast path (the C parser, no position bookkeeping). Only
when a diagnostic must point somewhere is the file parsed again with
positions (:class:`Locator`).
"""

from flowctl.load.documents import Document, LoadFailure, Source, load_source, read_source
from flowctl.load.locate import Locator, pointer_parts, pointer_text

__all__ = [
    "Document",
    "LoadFailure",
    "Locator",
    "Source",
    "load_source",
    "pointer_parts",
    "pointer_text",
    "read_source",
]
