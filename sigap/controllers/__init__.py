"""Controllers of the application shell, one module per resource: sign-in
(``auth``), the user's own account (``account``), administration of users
and the audit log (``admin``), the JSON API (``api``) and the health probes
(``health``). Pages and API call the same services."""

from sigap.controllers.account import AccountPages
from sigap.controllers.admin import AdminPages
from sigap.controllers.api import AuditAPI, AuthAPI, UsersAPI
from sigap.controllers.auth import AuthPages
from sigap.controllers.health import Health

route_handlers = [AuthPages, AccountPages, AdminPages, AuthAPI, UsersAPI, AuditAPI, Health]
