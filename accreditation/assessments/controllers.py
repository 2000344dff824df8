"""Self-assessment pages (the manager's phone form; staff review and the
assessor's scores) and the JSON API. Pages and API call the same services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from accreditation.assessments import services
from accreditation.assessments.letter import recommendation_pdf
from accreditation.instruments.services import text_in
from accreditation.web import (
    MANAGER,
    STAFF,
    STAFF_OR_MANAGER,
    failed,
    form_page,
    int_field,
)
from registry.access import is_staff
from sigap.bodies import Id, Int32
from sigap.errors import DomainError, NotFound, ValidationError
from sigap.i18n import _, get_locale
from sigap.tables import Role
from sigap.web import actor_of, content_disposition, settings_of, utcnow


async def _page(request: Request, assessment_id: int, status_code: int = 200, **context: Any) -> Template:
    actor = actor_of(request)
    a = await services.detail(actor, assessment_id)
    is_manager = actor.role == Role.manager
    evidence = await services.evidence_choices(actor, a["lks"]) if is_manager and a["editable"] else []
    return form_page(
        "accreditation/assessment.html", status_code=status_code, a=a, definition=a["instrument_row"]["definition"],
        text=lambda value: text_in(value, get_locale()), is_manager=is_manager, staff=is_staff(actor),
        evidence=evidence, evidence_names={d["id"]: d["filename"] for d in evidence}, done=request.query_params.get("done", ""),
        **context,
    )


def _answers(form: Any, codes: list[str]) -> dict[str, services.Answer]:
    out = {}
    for code in codes:
        if f"score_{code}" not in form and f"note_{code}" not in form:
            continue
        raw = str(form.get(f"score_{code}") or "").strip()
        docs = [int_field(v) for v in form.getall(f"documents_{code}", [])]
        out[code] = services.Answer(score=int(raw) if raw.isdigit() and len(raw) < 4 else None,
                                    note=str(form.get(f"note_{code}") or ""), documents=[d for d in docs if d])
        if raw and not raw.isdigit():
            out[code].score = -1  # reported as off the scale
    return out


class AssessmentPages(Controller):
    path = "/accreditation"
    include_in_schema = False

    @get("/self-assessment", guards=[MANAGER])
    async def mine(self, request: Request) -> Template | Redirect:
        actor = actor_of(request)
        found = await services.for_lks(actor, actor.lks_id or 0)
        if found is not None:
            return Redirect(f"/accreditation/assessments/{found['id']}", status_code=303)
        return form_page("accreditation/assessment_start.html", lks_id=actor.lks_id)

    @post("/lks/{lks_id:int}/assessment", guards=[STAFF_OR_MANAGER])
    async def start(self, request: Request, lks_id: FromPath[int]) -> Redirect:
        a = await services.start(actor_of(request), lks_id, now=utcnow())
        return Redirect(f"/accreditation/assessments/{a['id']}", status_code=303)

    @get("/assessments/{assessment_id:int}", guards=[STAFF_OR_MANAGER])
    async def detail(self, request: Request, assessment_id: FromPath[int]) -> Template:
        return await _page(request, assessment_id)

    @post("/assessments/{assessment_id:int}", guards=[MANAGER])
    async def save(self, request: Request, assessment_id: FromPath[int]) -> Template | Redirect:
        actor = actor_of(request)
        form = await request.form()
        submit = form.get("action") == "submit"
        try:
            a = await services.detail(actor, assessment_id)
            version = int_field(form.get("version"))
            if version is None:
                raise ValidationError(_("The current version is required."), fields={"version": _("Required.")})
            codes = [i["code"] for i in a["indicators"]]
            uploaded: dict[str, int] = {}
            for code in codes:
                file = form.get(f"file_{code}")
                if isinstance(file, UploadFile) and file.filename:
                    try:
                        a = await services.upload_evidence(
                            actor, assessment_id, code, filename=file.filename, fileobj=file.file, now=utcnow(),
                            storage=request.app.state.storage, max_bytes=settings_of(request).max_upload_bytes, version=version)
                    except ValidationError as exc:
                        raise ValidationError(exc.message, fields={f"file_{code}": exc.message}) from None
                    version = a["version"]
                    uploaded[code] = a["uploaded_document"]
            answers = _answers(form, codes)
            for code, document_id in uploaded.items():  # a new upload is cited with the ticked documents
                if code in answers:
                    answers[code].documents.append(document_id)
            await services.save(actor, assessment_id, answers, version=version, now=utcnow(), submit=submit)
        except NotFound:
            raise
        except DomainError as exc:
            typed = {k: v for k, v in form.items() if isinstance(v, str)}
            return await _page(request, assessment_id, **failed(exc, typed))
        return Redirect(f"/accreditation/assessments/{assessment_id}?done={'submitted' if submit else 'saved'}", status_code=303)

    @get("/assessments/{assessment_id:int}/letter.pdf", guards=[STAFF_OR_MANAGER])
    async def letter(self, request: Request, assessment_id: FromPath[int]) -> Response[bytes]:
        pdf, filename = await recommendation_pdf(actor_of(request), assessment_id, settings_of(request).region)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": content_disposition(filename, inline=True), "Cache-Control": "private, no-store"})

    @post("/assessments/{assessment_id:int}/review", guards=[STAFF])
    async def review(self, request: Request, assessment_id: FromPath[int]) -> Template | Redirect:
        actor = actor_of(request)
        form = await request.form()
        try:
            a = await services.detail(actor, assessment_id)
            verdicts = {
                i["code"]: services.Verdict(ok=form.get(f"fix_{i['code']}") != "1", comment=str(form.get(f"comment_{i['code']}") or ""))
                for i in a["indicators"]
            }
            version = int_field(form.get("version")) or 0
            decision = str(form.get("decision") or "")
            await services.review(actor, assessment_id, verdicts, decision=decision, comment=str(form.get("comment") or ""),
                                  version=version, now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            typed = {k: v for k, v in form.items() if isinstance(v, str)}
            return await _page(request, assessment_id, **failed(exc, typed))
        return Redirect(f"/accreditation/assessments/{assessment_id}?done={decision}", status_code=303)

    @post("/assessments/{assessment_id:int}/assessor", guards=[STAFF])
    async def assessor(self, request: Request, assessment_id: FromPath[int]) -> Template | Redirect:
        actor = actor_of(request)
        form = await request.form()
        try:
            a = await services.detail(actor, assessment_id)
            scores: dict[str, int | None] = {}
            for i in a["indicators"]:
                raw = str(form.get(f"assessor_{i['code']}") or "").strip()
                scores[i["code"]] = (int(raw) if raw.isdigit() and len(raw) < 4 else -1) if raw else None
            await services.enter_assessor_scores(actor, assessment_id, scores, version=int_field(form.get("version")) or 0,
                                                 now=utcnow())
        except NotFound:
            raise
        except DomainError as exc:
            typed = {k: v for k, v in form.items() if isinstance(v, str)}
            return await _page(request, assessment_id, **failed(exc, typed))
        return Redirect(f"/accreditation/assessments/{assessment_id}?done=assessor", status_code=303)


# --- JSON API ------------------------------------------------------------------------


@dataclass
class AnswerBody:
    score: Int32 | None = None
    note: str = ""
    documents: list[Id] = field(default_factory=list)


@dataclass
class AnswersBody:
    version: Int32
    answers: dict[str, AnswerBody] = field(default_factory=dict)
    submit: bool = False


@dataclass
class VerdictBody:
    ok: bool = True
    comment: str = ""


@dataclass
class ReviewBody:
    decision: str  # return / recommend
    version: Int32
    comment: str = ""
    verdicts: dict[str, VerdictBody] = field(default_factory=dict)


@dataclass
class AssessorBody:
    version: Int32
    scores: dict[str, Int32 | None] = field(default_factory=dict)


def api_assessment(a: dict) -> dict:
    locale = get_locale()
    definition = a["instrument_row"]["definition"]
    return {
        "id": a["id"], "lks_id": a["lks"], "cycle_id": a["cycle"], "status": a["status"], "version": a["version"],
        "instrument": {"id": a["instrument"], "version": a["instrument_row"]["version"], "scale": {
            "min": definition["scale"]["min"], "max": definition["scale"]["max"]}},
        "indicators": [{"code": i["code"], "aspect": i["aspect"], "aspect_title": text_in(i["aspect_title"], locale),
                        "text": text_in(i["text"], locale), "weight": i["weight"]} for i in a["indicators"]],
        "answers": a["answers"], "review": a["review"], "review_comment": a["review_comment"],
        "assessor_scores": a["assessor_scores"], "letter_number": a["letter_number"],
        "result": _api_result(a["result"], locale),
        "assessor_result": _api_result(a["assessor_result"], locale) if a["assessor_result"] else None,
    }


def _api_result(result, locale: str) -> dict:
    data = result.as_dict()
    for aspect in data["aspects"]:
        aspect["title"] = text_in(aspect["title"], locale)
    return data


class AssessmentsAPI(Controller):
    path = "/api/v1/accreditation"
    tags = ["accreditation"]

    @post("/lks/{lks_id:int}/assessment", guards=[STAFF_OR_MANAGER], status_code=HTTP_201_CREATED)
    async def start(self, request: Request, lks_id: FromPath[int]) -> dict:
        """The self-assessment of the LKS's latest cycle (created when missing)."""
        return api_assessment(await services.start(actor_of(request), lks_id, now=utcnow()))

    @get("/assessments/{assessment_id:int}", guards=[STAFF_OR_MANAGER])
    async def detail(self, request: Request, assessment_id: FromPath[int]) -> dict:
        return api_assessment(await services.detail(actor_of(request), assessment_id))

    @put("/assessments/{assessment_id:int}", guards=[MANAGER], status_code=HTTP_200_OK)
    async def save(self, request: Request, assessment_id: FromPath[int], data: JSONBody[AnswersBody]) -> dict:
        """The LKS's manager saves answers (`submit: true` sends it for review)."""
        answers = {code: services.Answer(a.score, a.note, list(a.documents)) for code, a in data.answers.items()}
        return api_assessment(await services.save(actor_of(request), assessment_id, answers, version=data.version,
                                                  now=utcnow(), submit=data.submit))

    @post("/assessments/{assessment_id:int}/review", guards=[STAFF], status_code=HTTP_200_OK)
    async def review(self, request: Request, assessment_id: FromPath[int], data: JSONBody[ReviewBody]) -> dict:
        """`decision`: return (with comments) or recommend (the letter is issued)."""
        verdicts = {code: services.Verdict(v.ok, v.comment) for code, v in data.verdicts.items()}
        return api_assessment(await services.review(actor_of(request), assessment_id, verdicts, decision=data.decision,
                                                    comment=data.comment, version=data.version, now=utcnow()))

    @post("/assessments/{assessment_id:int}/assessor", guards=[STAFF], status_code=HTTP_200_OK)
    async def assessor(self, request: Request, assessment_id: FromPath[int], data: JSONBody[AssessorBody]) -> dict:
        return api_assessment(await services.enter_assessor_scores(actor_of(request), assessment_id, dict(data.scores),
                                                                   version=data.version, now=utcnow()))

    @get("/assessments/{assessment_id:int}/weakest", guards=[STAFF_OR_MANAGER])
    async def weakest(self, request: Request, assessment_id: FromPath[int]) -> dict:
        """The lowest-scored indicators (assessor's scores when entered)."""
        locale = get_locale()
        rows = await services.weakest_indicators(actor_of(request), assessment_id, 5)
        return {"items": [{"code": r["code"], "aspect": r["aspect"], "text": text_in(r["text"], locale), "score": r["score"],
                           "weight": r["weight"]} for r in rows]}


route_handlers = [AssessmentPages, AssessmentsAPI]
