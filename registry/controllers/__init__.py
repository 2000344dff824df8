"""The registry's pages and JSON API, one module per resource: ``lks`` (the
record and its workflow), ``documents``, ``regions``; the import and export
pages are the ``registry.transfer`` sub-domain's own. Pages and API call the
same services; guards (``guards``) enforce roles."""

from registry.controllers.documents import (
    DocumentPages,
    DocumentsAPI,
    LksDocumentPages,
    LksDocumentsAPI,
)
from registry.controllers.lks import LksAPI, LksPages
from registry.controllers.regions import RegionsAPI
from registry.transfer.controllers import route_handlers as transfer_handlers

route_handlers = [
    LksPages, LksDocumentPages, *transfer_handlers, DocumentPages, LksAPI, LksDocumentsAPI, DocumentsAPI, RegionsAPI,
]
