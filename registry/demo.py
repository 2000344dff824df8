"""Synthetic Kota Tangerang for demos: 72 clearly fictitious LKS (every name
ends in "(Demo)") across the 13 kecamatan, 17 accredited and 12 in
accreditation, a realistic mix of registration statuses, and generated
documents. Deterministic, and safe to repeat: it runs only once."""

from __future__ import annotations

import io
import json
import math
import random
from datetime import date, datetime, timedelta

from fpdf import FPDF

from registry import documents, regions
from registry.services import normalize_text, search_text
from registry.tables import Application, Document, Lks, StatusChange
from registry.tables import RegistrationStatus as S
from registry.workflow import add_years
from sigap import audit
from sigap.audit import Actor
from sigap.db import write_transaction
from sigap.i18n import WIB
from sigap.settings import get_settings
from sigap.storage import Storage
from sigap.tables import Role

TOTAL = 72
ACCREDITED = 17
IN_PROCESS = 12
KIND_PREFIX = {
    "lksa": ["Panti Asuhan", "LKSA", "Rumah Anak"],
    "elderly": ["Panti Werdha", "Griya Lansia"],
    "disability": ["Rumah Disabilitas", "Wisma Difabel"],
    "rehabilitation": ["Pusat Rehabilitasi", "Rumah Pemulihan"],
    "other": ["Rumah Singgah"],
}
KIND_WEIGHTS = [("lksa", 40), ("elderly", 12), ("disability", 10), ("rehabilitation", 6), ("other", 4)]
WORDS = [
    "Kasih Bunda", "Cahaya Harapan", "Mentari Pagi", "Budi Luhur", "Nur Hidayah", "Pelita Hati", "Tunas Bangsa",
    "Bina Insani", "Sinar Kasih", "Rumah Damai", "Permata Hati", "Bakti Mulia", "Harapan Baru", "Citra Kasih",
    "Lentera Kasih", "Tali Kasih", "Karya Asih", "Mutiara Bunda", "Bintang Timur", "Sejahtera",
]
STREETS = ["Jl. Melati", "Jl. Kenanga", "Jl. Mawar", "Jl. Anggrek", "Jl. Flamboyan", "Jl. Cempaka", "Jl. Dahlia", "Jl. Teratai"]
HEADS = ["Ibu Sri (Demo)", "Bapak Ahmad (Demo)", "Ibu Dewi (Demo)", "Bapak Yusuf (Demo)", "Ibu Lestari (Demo)", "Bapak Hasan (Demo)"]
STATUS_MIX = (
    [S.registered] * 45 + [S.expired] * 6 + [S.applied] * 4 + [S.document_check] * 3
    + [S.field_verification] * 2 + [S.unregistered] * 8 + [S.suspended] * 2 + [S.closed] * 2
)


# Rough middles of Kota Tangerang's kecamatan (WGS 84), for plausible demo
# positions: each kelurahan sits on a ~1 km ring around its kecamatan's
# middle, each LKS within ~200 m of its kelurahan's point.
KECAMATAN_MIDDLE = {
    "36.71.01": (-6.1780, 106.6310), "36.71.02": (-6.1950, 106.5800), "36.71.03": (-6.1600, 106.6620),
    "36.71.04": (-6.1300, 106.6950), "36.71.05": (-6.1850, 106.6850), "36.71.06": (-6.2340, 106.7120),
    "36.71.07": (-6.1830, 106.6060), "36.71.08": (-6.1700, 106.5650), "36.71.09": (-6.2000, 106.6050),
    "36.71.10": (-6.1400, 106.6300), "36.71.11": (-6.2250, 106.6750), "36.71.12": (-6.2100, 106.7180),
    "36.71.13": (-6.2400, 106.7380),
}
WITHOUT_POSITION = 3  # unregistered demo LKS (reported homes) whose coordinates nobody has recorded yet


def demo_position(i: int, unknown: bool, village_code: str, siblings: list[dict]) -> dict:
    """Coordinates near the LKS's kelurahan (or none when ``unknown``: the
    map counts those and links to their list)."""
    if unknown:
        return {"latitude": None, "longitude": None}
    middle = KECAMATAN_MIDDLE.get(village_code[:8])
    if middle is None:  # another region's demo keeps the random position
        return {}
    codes = sorted(v["code"] for v in siblings)
    angle = 2 * math.pi * codes.index(village_code) / max(1, len(codes))
    jitter = random.Random(f"demo-position-{i}")
    return {
        "latitude": round(middle[0] + 0.009 * math.sin(angle) + jitter.uniform(-0.002, 0.002), 5),
        "longitude": round(middle[1] + 0.009 * math.cos(angle) + jitter.uniform(-0.002, 0.002), 5),
    }


def demo_pdf(title: str, lks_name: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, title[:80], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 7, f"{lks_name}\nDokumen contoh yang dibuat otomatis untuk demo SIGAP. Bukan dokumen asli.")
    return bytes(pdf.output())


async def load_registry_demo(*, now: datetime, storage: Storage, context: dict | None = None) -> int | None:
    """Create the demo LKS; returns the id of the one the demo manager runs,
    or None when the demo data already exists."""
    if await Lks.exists().where(Lks.name.like("%(Demo)")):
        first = await Lks.select(Lks.id).where(Lks.name.like("%(Demo)")).order_by(Lks.id).first()
        return first["id"] if first else None
    rng = random.Random(3671)
    region = get_settings().region
    districts = await regions.districts(region)
    villages = await regions.villages(region)
    by_district: dict[str, list[dict]] = {}
    for v in villages:
        by_district.setdefault(v["parent_code"], []).append(v)
    box = regions.bounding_box(region)
    today = now.astimezone(WIB).date()
    statuses = STATUS_MIX[:]
    rng.shuffle(statuses)
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    registered_ids: list[int] = []
    system = Actor(user_id=None, username="demo", role=Role.admin)
    created: list[dict] = []
    used_names: set[str] = set()
    for i in range(TOTAL):
        district = districts[i % len(districts)]
        village = rng.choice(by_district[district["code"]])
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(kinds)
        word = rng.choice(WORDS)
        name = f"{rng.choice(KIND_PREFIX[kind])} {word}"
        while normalize_text(name) in used_names:
            word = f"{rng.choice(WORDS)} {rng.randint(2, 9)}"
            name = f"{rng.choice(KIND_PREFIX[kind])} {word}"
        used_names.add(normalize_text(name))
        name = f"{name} (Demo)"
        status = statuses[i]
        capacity = rng.choice([20, 25, 30, 40, 50, 60])
        residents = {k: 0 for k in ("m_0_5", "f_0_5", "m_6_12", "f_6_12", "m_13_17", "f_13_17", "m_18", "f_18")}
        bands = ["0_5", "6_12", "13_17"] if kind == "lksa" else ["18"]
        for _ in range(rng.randint(capacity // 2, capacity + (3 if i % 11 == 0 else -1))):
            residents[f"{rng.choice('mf')}_{rng.choice(bands)}"] += 1
        legal = i % 9 != 4
        values = {
            "name": name,
            "kind": kind,
            "legal_entity": legal,
            "yayasan_name": f"Yayasan {word} (Demo)" if legal else "",
            "akta_number": f"{rng.randint(1, 99):02d}" if legal else "",
            "akta_date": date(rng.randint(1995, 2020), rng.randint(1, 12), rng.randint(1, 28)) if legal else None,
            "sk_kemenkumham_number": f"AHU-{rng.randint(1000, 9999)}.AH.01.04.Tahun {rng.randint(2008, 2021)}" if legal else "",
            "npwp": "".join(str(rng.randint(0, 9)) for _ in range(15)) if legal else "",
            "address": f"{rng.choice(STREETS)} No. {rng.randint(1, 120)}",
            "rt": f"{rng.randint(1, 12):03d}",
            "rw": f"{rng.randint(1, 8):03d}",
            "kelurahan_code": village["code"],
            "kecamatan_code": district["code"],
            # Two draws kept so that every later demo value stays what it was;
            # the position itself is near the LKS's kelurahan (demo_position).
            "latitude": round(rng.uniform(box.min_lat + 0.03, box.max_lat - 0.03), 5) if box else None,
            "longitude": round(rng.uniform(box.min_lon + 0.03, box.max_lon - 0.03), 5) if box else None,
            "phone": f"0812{rng.randint(10000000, 99999999)}",
            "email": "",
            "head_name": rng.choice(HEADS),
            "capacity": capacity,
            "residents": residents,
            "residents_total": sum(residents.values()),
            "staff_caregivers": rng.randint(2, 10),
            "staff_social_workers": rng.randint(0, 3),
            "staff_other": rng.randint(0, 5),
            "services": sorted(rng.sample(["residential_care", "education", "health", "psychosocial", "spiritual", "vocational"], 3)),
            "registration_status": status.value,
        }
        unknown = status == S.unregistered and statuses[:i].count(S.unregistered) < WITHOUT_POSITION
        values.update(demo_position(i, unknown, village["code"], by_district[district["code"]]))
        if status in (S.registered, S.suspended, S.expired):
            issued = today - timedelta(days=rng.randint(40, 1000)) if status != S.expired else today - timedelta(days=rng.randint(1100, 1500))
            values["registered_on"] = issued
            values["valid_until"] = add_years(issued, 3)
            values["certificate_number"] = f"{i + 1:04d}/TD-LKS/{region}/{issued.year}"
        if status == S.suspended:
            values["status_reason"] = "Contoh: ditangguhkan menunggu tindak lanjut temuan pengawasan."
        if status == S.closed:
            values["status_reason"] = "Contoh: lembaga berhenti beroperasi."
        created.append(values)

    async with write_transaction():
        for values in created:
            row = dict(values)
            row["residents"] = json.dumps(values["residents"])
            row["services"] = json.dumps(values["services"])
            lks = Lks(**row, search_text=search_text(values), created_at=now, updated_at=now)
            await lks.save()
            values["id"] = lks.id
            status = S(values["registration_status"])
            if status in (S.registered, S.suspended):
                registered_ids.append(lks.id)
            if status in (S.applied, S.document_check, S.field_verification):
                app = Application(lks=lks.id, kind="new", step=status.value, opened_at=now, status_before="unregistered")
                await app.save()
            if status != S.unregistered:
                await StatusChange.insert(
                    StatusChange(lks=lks.id, at=now, action="demo", from_status="unregistered", to_status=status.value,
                                 reason=values.get("status_reason", ""), actor_name="demo")
                )
            await audit.record(system, "lks.create", "lks", lks.id, now=now, after={"name": values["name"], "demo": True})
        # Which registered LKS the accreditation demo makes accredited (17)
        # and in process (12): it creates their cycles (the LKS row's
        # accreditation fields are derived from those).
        rng.shuffle(registered_ids)
        if context is not None:
            context["accreditation_demo"] = {
                "accredited": registered_ids[:ACCREDITED],
                "in_process": registered_ids[ACCREDITED : ACCREDITED + IN_PROCESS],
            }

    # Documents: the first registered LKS have their full set, verified;
    # applicants have part of theirs, waiting for verification.
    with_docs = [v for v in created if v["registration_status"] in ("registered", "field_verification")][:8]
    with_docs += [v for v in created if v["registration_status"] in ("applied", "document_check")][:4]
    for values in with_docs:
        full = values["registration_status"] in ("registered", "field_verification")
        types = documents.required_types(values["kind"], values["legal_entity"])
        for doc_type in types if full else types[:5]:
            data = demo_pdf(documents.DOCUMENT_TYPES[doc_type], values["name"])
            row, _created = await documents.upload(
                system, values["id"], doc_type=doc_type, filename=f"{doc_type}.pdf", fileobj=io.BytesIO(data),
                now=now, storage=storage, max_bytes=10 * 1024 * 1024,
            )
            if full:
                async with write_transaction():
                    await Document.update({Document.status: "verified", Document.reviewed_at: now}).where(Document.id == row["id"])
        await documents.refresh_completeness(values["id"], today=today)
    lksa = next(v for v in created if v["kind"] == "lksa" and v["registration_status"] == "registered")
    return lksa["id"]
