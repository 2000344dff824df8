"""The tablet's offline-first visit form: the page shell (``/tasks/{id}/visit``;
its script renders the checklist, keeps drafts and the outbox in IndexedDB),
the service worker (``/sw.js``, scope "/") and the web app manifest."""

from __future__ import annotations

import hashlib
import json
from functools import cache

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from inspections.findings.services import FINDING_SEVERITY_LABELS, RESPONSIBLE_LABELS
from inspections.visits.form import FILER_ROLES, visit_form
from inspections.visits.services import FAR_START_M, OUTCOME_LABELS
from inspections.web import FIELD_OR_STAFF, NO_STORE
from sigap.i18n import N_, _, choices
from sigap.security import PERMISSIONS_FOR_VISITS
from sigap.settings import PROJECT_ROOT
from sigap.web import actor_of, page, requires, settings_of

FILERS = requires(*FILER_ROLES)
STATIC = PROJECT_ROOT / "static"
# What the service worker keeps from its installation on: the form's
# script, styles and icons (their content-hashed URLs).
OFFLINE_ASSETS = (
    "sigap.css", "visit/visit.css", "visit/visit.js", "visit/store.js", "visit/outbox.js", "visit/photos.js",
    "visit/signature.js", "visit/checklist.js", "visit/report.js", "visit/register.js", "visit/outbox-page.js", "visit/icon.svg", "visit/icon-192.png", "visit/icon-512.png",
)
# The form's modules, loaded by visit.js from the URLs the page lists.
FORM_MODULES = ("store", "outbox", "photos", "signature", "checklist", "report")
AGE_BANDS = (("0_5", N_("0–5 years")), ("6_12", N_("6–12 years")), ("13_17", N_("13–17 years")), ("18_plus", N_("18 years and over")))

# Texts the script shows (on the device, maybe offline): translated here so
# both languages match the server's own messages.
SCRIPT_TEXTS = {
    "photo_type": N_("Only JPEG, PNG or WebP photos."),
    "photo_empty": N_("The photo is empty."),
    "waiting": N_("%(reports)s reports and %(photos)s photos are waiting to be sent."),
    "nothing_waiting": N_("Nothing is waiting to be sent."),
    "sent_report": N_("Report sent to Dinas Sosial on %(at)s."),
    "already_sent": N_("This report has already been sent."),
    "queued": N_("The report is saved on this device and will be sent as soon as there is a network."),
    "offline": N_("No network: the report waits on this device and is sent when the network returns."),
    "failed": N_("Not sent: %(message)s"),
    "signin_again": N_("Your session has ended: sign in again (online) so the waiting reports can be sent."),
    "other_author": N_("Written by another account on this device: it is sent when that account signs in here again."),
    "draft_saved": N_("Draft saved on this device at %(at)s."),
    "draft_other_tab": N_("This draft was changed in another tab; its changes are shown here."),
    "quota": N_("This device is out of space: the last change was not saved. Free some space (old photos, other apps) and try again."),
    "storage_closed": N_("The browser closed the draft storage; it was reopened. Check your last change."),
    "no_storage": N_("This browser cannot keep drafts (private mode?): do not close this page before sending."),
    "gps_refused": N_("Location was refused: allow location for this site in the browser settings, or go on without it (the report will say so)."),
    "gps_unavailable": N_("The position could not be determined here. Try again outside, or go on without it."),
    "gps_waiting": N_("Finding the position…"),
    "gps_position": N_("Position recorded (accuracy %(accuracy)s m)."),
    "gps_distance": N_("%(distance)s m from the LKS's registered point."),
    "gps_far": N_("More than %(distance)s m from the LKS's registered point: the report will flag a far start."),
    "gps_no_point": N_("The LKS has no registered coordinates: no distance can be shown."),
    "answer_required": N_("Answer this question."),
    "key_needs_finding": N_("Add a finding for this key item."),
    "key_needs_photo": N_("Add at least one photo for this key item."),
    "fix_marked": N_("The report is not complete: please correct the marked items."),
    "choose_outcome": N_("Choose the outcome of the visit."),
    "sign_here": N_("A signature is required."),
    "conflict": N_("Another report was already filed for this task: compare both versions below. Nothing was overwritten."),
    "on_device": N_("On this device"),
    "on_server": N_("On the server"),
    "no_checklist": N_("No checklist for this kind of LKS is available on this device yet. Open this page once with a network."),
    "remove": N_("Remove"),
    "finding_for": N_("Finding for item %(code)s"),
    "finding_incomplete": N_("Complete this finding: severity, what was found, the corrective action and the date."),
    "photo_na": N_("No photo possible"),
    "returned": N_("Dinas Sosial returned this report for correction: %(comment)s"),
    "correct": N_("Correct the report"),
}


def script_texts(max_photo_mb: int) -> dict[str, str]:
    texts = {key: _(msgid) for key, msgid in SCRIPT_TEXTS.items()}
    texts["photo_large"] = _("The photo is too large (at most %(mb)s MB).", mb=max_photo_mb)
    return texts


def max_photo_mb(request: Request) -> int:
    return settings_of(request).max_photo_mb


def static_url_of(request: Request):
    """The app's ``static_url`` (content-hashed URLs of static files)."""
    return request.app.state.wiring.template_globals["static_url"]


def form_modules(request: Request) -> dict[str, str]:
    """name → content-hashed URL of each module visit.js loads."""
    return {name: static_url_of(request)(f"visit/{name}.js") for name in FORM_MODULES}


@cache
def _service_worker(static_url) -> tuple[str, str]:
    """The worker's source with the hashed URLs of what it keeps offline,
    and its version (changes whenever one of them changes)."""
    assets = [static_url(name) for name in OFFLINE_ASSETS]
    body = (STATIC / "sw.js").read_text(encoding="utf-8")
    version = hashlib.sha256((body + "".join(assets)).encode()).hexdigest()[:12]
    header = f"const VERSION = {json.dumps(version)};\nconst ASSETS = {json.dumps(assets)};\n"
    return header + body, version


class TabletPages(Controller):
    include_in_schema = False

    @get("/tasks/{task_id:int}/visit", guards=[FILERS])
    async def form(self, request: Request, task_id: FromPath[int]) -> Template:
        """The visit form of a task: a shell the script fills (from the
        device's draft, or the checklist of the LKS's kind)."""
        context = await visit_form(actor_of(request), task_id)
        mb = max_photo_mb(request)
        response = page(
            "inspections/visits/form.html",
            **context,
            max_photo_mb=mb,
            texts=script_texts(mb),
            age_bands=[(code, _(label)) for code, label in AGE_BANDS],
            severity_choices=choices(FINDING_SEVERITY_LABELS),
            responsible_choices=choices(RESPONSIBLE_LABELS),
            outcome_choices=choices(OUTCOME_LABELS),
            far_m=FAR_START_M,
            modules=form_modules(request),
        )
        response.headers.update({**NO_STORE, "Permissions-Policy": PERMISSIONS_FOR_VISITS})
        return response

    @get("/visits/outbox", guards=[FIELD_OR_STAFF])
    async def outbox(self, request: Request) -> Template:
        """What waits on this device (read by the script from IndexedDB)."""
        return page("inspections/visits/tablet_outbox.html", texts=script_texts(max_photo_mb(request)), modules=form_modules(request))

    @get("/sw.js", opt={"public": True})
    async def service_worker(self, request: Request) -> Response:
        source, _version = _service_worker(static_url_of(request))
        return Response(source, media_type="text/javascript", headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})

    @get("/manifest.webmanifest", opt={"public": True})
    async def manifest(self, request: Request) -> Response:
        static_url = static_url_of(request)
        body = {
            "name": "SIGAP · " + _("Visit reports"), "short_name": "SIGAP", "lang": "id", "start_url": "/tasks", "scope": "/",
            "display": "standalone", "background_color": "#f4f6f8", "theme_color": "#0b5563",
            "icons": [
                {"src": static_url("visit/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static_url("visit/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {"src": static_url("visit/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            ],
        }
        return Response(json.dumps(body), media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


route_handlers: list = [TabletPages]
