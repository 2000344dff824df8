// The visit form on the tablet, offline first. The draft in IndexedDB is
// the truth: every change is saved there at once, and a reload (even with
// no network: the service worker keeps the page) shows it again. Submitting
// moves the report and its photos to the outbox, which sends them whenever
// it can. Modules are loaded by their content-hashed URLs (the page lists
// them), so a new version is never mixed with a cached old one.

const app = document.getElementById("visit-app");
const form = document.getElementById("visit-form");
const json = (id) => JSON.parse(document.getElementById(id).textContent);
const texts = json("visit-texts");
const team = json("visit-team");
const urls = json("visit-modules");
const taskId = Number(app.dataset.taskId);
const TAB = Math.random().toString(36).slice(2);
const RUNTIME_CACHE = "sigap-runtime-v1";

const [store, outboxes, photos, signatures, checklists, reports] = await Promise.all(
  [urls.store, urls.outbox, urls.photos, urls.signature, urls.checklist, urls.report].map((url) => import(url)),
);
const { format } = outboxes;

let draft = null;
const pads = {};
const banner = document.getElementById("visit-banner");
const byId = (id) => document.getElementById(id);

function newId(prefix) {
  const random = crypto.randomUUID ? crypto.randomUUID() : [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${prefix}-${random}`;
}

function say(kind, text) {
  banner.className = `alert alert-${kind}`;
  banner.textContent = text;
  banner.hidden = !text;
}

// --- network helpers --------------------------------------------------------------

async function getJSON(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) return await response.json();
  } catch (error) {
    // offline: the worker's copy below
  }
  const cached = "caches" in self ? await caches.match(url, { ignoreVary: true }) : null;
  return cached ? cached.json() : null;
}

async function keepOffline() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => null);
  if (!navigator.onLine) return;
  const cache = await caches.open(RUNTIME_CACHE);
  const wanted = [location.pathname, "/api/v1/checklists", `/api/v1/lks/${app.dataset.lksId}/field`, "/visits/outbox"];
  await Promise.all(wanted.map((url) => cache.add(new Request(url, { credentials: "same-origin" })).catch(() => null)));
}

// --- the draft <-> the form ----------------------------------------------------------

function newDraft(checklist) {
  const now = new Date().toISOString();
  return {
    task_id: taskId, client_id: newId("visit"), checklist, state: "draft", created_at: now, started_at: now, updated_at: now,
    announced: null, position: null, members: [], others: [], lks_head: byId("f-lks-head").dataset.default || "",
    residents: {}, answers: {}, findings: [], signatures: {}, outcome: "", summary: "", internal_notes: "", server_errors: {},
  };
}

function collect() {
  const announced = form.elements.announced.value;
  draft.announced = announced === "" ? null : announced === "1";
  draft.members = [...form.querySelectorAll("[name=present-member]:checked")].map((box) => Number(box.value));
  draft.lks_head = byId("f-lks-head").value;
  draft.residents = Object.fromEntries(
    [...form.querySelectorAll("[name^='residents.']")].filter((i) => i.value !== "").map((i) => [i.name.slice(10), Number(i.value)]),
  );
  draft.answers = checklists.readAnswers(form, draft.checklist);
  checklists.markAnswers(byId("checklist"), draft.answers);
  draft.findings = checklists.readFindings(byId("checklist"));
  draft.outcome = form.elements.outcome.value;
  draft.summary = form.elements.summary.value;
  draft.internal_notes = form.elements.internal_notes.value;
  draft.updated_at = new Date().toISOString();
}

function renderOthers() {
  byId("present-others").replaceChildren(...draft.others.map((person, index) => {
    const item = document.createElement("li");
    item.textContent = `${person.name}${person.agency ? ` (${person.agency})` : ""} `;
    const remove = document.createElement("button");
    Object.assign(remove, { type: "button", className: "button small", textContent: texts.remove });
    remove.dataset.other = index;
    item.append(remove);
    return item;
  }));
}

async function renderPhotos() {
  checklists.renderThumbs(byId("checklist"), await store.photosOf(draft.client_id), texts);
}

function fill() {
  form.elements.announced.value = draft.announced === null ? "" : draft.announced ? "1" : "0";
  form.querySelectorAll("[name=present-member]").forEach((box) => { box.checked = draft.members.includes(Number(box.value)); });
  byId("f-lks-head").value = draft.lks_head;
  form.querySelectorAll("[name^='residents.']").forEach((input) => { input.value = draft.residents[input.name.slice(10)] ?? ""; });
  checklists.writeAnswers(form, draft.checklist, draft.answers);
  checklists.markAnswers(byId("checklist"), draft.answers);
  checklists.renderFindings(byId("checklist"), draft.findings, byId("tpl-finding"), texts);
  form.elements.outcome.value = draft.outcome;
  form.elements.summary.value = draft.summary;
  form.elements.internal_notes.value = draft.internal_notes;
  Object.entries(pads).forEach(([who, pad]) => pad.show(draft.signatures[who] || ""));
  renderOthers();
  showPosition();
  showErrors(draft.server_errors || {});
  return renderPhotos();
}

// --- saving -----------------------------------------------------------------------------

let saving = Promise.resolve();

function save() {
  saving = saving.then(async () => {
    try {
      const stored = await store.saveDraft(draft);
      if (stored !== draft) return adopt(stored);
      byId("draft-status").textContent = format(texts.draft_saved, { at: new Date().toLocaleTimeString("id-ID") });
      if (outboxes.channel) outboxes.channel.postMessage({ type: "draft", task_id: taskId, tab: TAB });
    } catch (error) {
      if (error.name !== "QuotaExceededError") say("error", texts.no_storage);
    }
    return null;
  });
  return saving;
}

function changed() {
  if (!draft || draft.state !== "draft") return;
  collect();
  save();
}

// Another tab changed, queued or sent this draft: show what it did.
async function adopt(stored) {
  draft = stored;
  await fill();
  return showState();
}

// --- state of this report ---------------------------------------------------------------

function lock(locked) {
  form.querySelectorAll("input, textarea, select, button").forEach((control) => { control.disabled = locked; });
  Object.values(pads).forEach((pad) => pad.lock(locked));
  form.querySelector(".submit-bar").hidden = locked;
}

async function showState() {
  const report = (await outboxes.summary(store)).reportsByTask.get(taskId);
  const mine = report && report.client_id === draft.client_id ? report : null;
  lock(draft.state !== "draft");
  if (draft.state === "sent") {
    const at = mine && mine.sent_at ? new Date(mine.sent_at).toLocaleString("id-ID") : "";
    return say("success", `${texts.already_sent} ${at ? format(texts.sent_report, { at }) : ""}`);
  }
  if (draft.state === "returned") return showReturned();
  if (draft.state === "queued") return say("info", mine && mine.message ? `${texts.queued} ${mine.message}` : texts.queued);
  if (draft.state === "conflict") {
    say("warning", texts.conflict);
    return compareWithServer();
  }
  if (mine && mine.status === "failed") return say("error", format(texts.failed, { message: mine.message }));
  return say("", "");
}

async function renderStatus() {
  const now = await outboxes.summary(store);
  const parts = [now.reports || now.photos ? format(texts.waiting, now) : texts.nothing_waiting];
  if (now.lastSent) parts.push(format(texts.sent_report, { at: new Date(now.lastSent.sent_at).toLocaleString("id-ID") }));
  byId("visit-status").textContent = parts.join(" ");
  byId("visit-status").classList.toggle("waiting", Boolean(now.reports || now.photos));
}

async function refresh() {
  const stored = await store.getDraft(taskId);
  if (stored && draft && stored.client_id === draft.client_id && stored.state !== draft.state) await adopt(stored);
  return renderStatus();
}

// The server may already hold this report (sent from another tab or device:
// never send it twice; returned for correction: the inspector may correct
// it) or a different one for this task (shown side by side).
async function checkServer() {
  if (!draft || !navigator.onLine) return;
  const found = await getJSON(`/api/v1/visits?task_id=${taskId}`);
  const items = (found && found.items) || [];
  const mine = items.find((v) => v.client_id === draft.client_id);
  if (mine && mine.status === "returned" && draft.state === "sent") {
    draft = { ...draft, state: "returned", resubmit: { visit_id: mine.id, version: mine.version } };
  } else if (mine && draft.state !== "sent" && draft.state !== "returned") {
    draft = { ...draft, state: "sent" };
  } else if (!mine && items.length && draft.state === "draft") {
    draft = { ...draft, state: "conflict" };
    return showState();
  } else return null;
  await store.saveDraft(draft).catch(() => null);
  return showState();
}

async function showReturned() {
  const visit = await getJSON(`/api/v1/visits/${draft.resubmit.visit_id}`);
  say("warning", format(texts.returned, { comment: (visit && visit.review_comment) || "—" }));
  const button = Object.assign(document.createElement("button"), { type: "button", className: "button primary", textContent: texts.correct });
  button.addEventListener("click", async () => {
    draft = { ...draft, state: "draft" };
    await store.saveDraft(draft, true);
    await showState();
  });
  banner.append(" ", button);
}

// Both versions side by side, in words: this device's report and the one
// the server holds (nothing is overwritten; the inspector decides).
function compareRows(server) {
  const outcome = (value) => (value ? document.querySelector(`.outcome-${value} span`).textContent : "—");
  const rows = [
    [byId("v-outcome").textContent, outcome(draft.outcome), outcome(server.outcome)],
    [document.querySelector("label[for=f-summary]").textContent, draft.summary || "—", server.summary || "—"],
  ];
  draft.checklist.questions.forEach((q) => {
    const label = (value) => ((q.options || []).find((o) => o.value === value) || { label: value ?? "—" }).label;
    rows.push([`${q.code} ${q.text}`, label(draft.answers[q.code]), label(server.answers[q.code])]);
  });
  return rows;
}

async function compareWithServer() {
  const list = await getJSON(`/api/v1/visits?task_id=${taskId}`);
  const server = list && list.items && list.items[0] ? await getJSON(`/api/v1/visits/${list.items[0].id}`) : null;
  if (!server) return;
  const table = document.createElement("table");
  table.className = "compare-table";
  const head = table.createTHead().insertRow();
  ["", texts.on_device, texts.on_server].forEach((label) => { head.append(Object.assign(document.createElement("th"), { textContent: label })); });
  const body = table.createTBody();
  compareRows(server).forEach(([name, mine, theirs]) => {
    const row = body.insertRow();
    row.className = String(mine) === String(theirs) ? "" : "differs";
    [name, mine, theirs].forEach((value) => { row.insertCell().textContent = String(value); });
  });
  byId("visit-compare").replaceChildren(table);
  byId("visit-compare").hidden = false;
}

// --- submitting -------------------------------------------------------------------------

function showErrors(errors) {
  checklists.showQuestionErrors(byId("checklist"), errors);
  form.querySelectorAll(".finding").forEach((node, index) => {
    const text = Object.entries(errors).filter(([key]) => key.startsWith(`findings.${index}`)).map(([, m]) => m).join(" ");
    const slot = node.querySelector(".f-error");
    slot.textContent = text;
    slot.hidden = !text;
  });
  form.querySelectorAll("[data-error-for]").forEach((slot) => {
    slot.textContent = errors[slot.dataset.errorFor] || "";
    slot.hidden = !slot.textContent;
  });
  const any = Object.keys(errors).length > 0;
  byId("form-error").textContent = any ? texts.fix_marked : "";
  byId("form-error").hidden = !any;
}

async function submit(event) {
  event.preventDefault();
  collect();
  const photoList = await store.photosOf(draft.client_id);
  const errors = reports.localErrors(draft, photoList, texts);
  showErrors(errors);
  if (Object.keys(errors).length) {
    const first = form.querySelector(".has-error, .error-text:not([hidden])");
    if (first) first.scrollIntoView({ block: "center" });
    return;
  }
  const report = { client_id: draft.client_id, task_id: taskId, lks_name: app.dataset.lksName, body: reports.reportBody(draft, photoList, team), status: "waiting", attempts: 0, next_at: 0, queued_at: new Date().toISOString() };
  const author = outboxes.signedInUser();
  if (author) report.body.author = author; // sent by this account only (shared tablets)
  if (draft.resubmit) {
    report.url = `/api/v1/visits/${draft.resubmit.visit_id}/resubmit`; // a correction of a returned report
    report.body.version = draft.resubmit.version;
  }
  await store.queue({ ...draft, server_errors: {} }, report);
  draft = { ...draft, state: "queued", server_errors: {} };
  await showState();
  await renderStatus();
  if (outboxes.channel) outboxes.channel.postMessage({ type: "queued", task_id: taskId, tab: TAB });
  outbox.flush();
}

// --- position ---------------------------------------------------------------------------

function distanceM(a, b) {
  const rad = (d) => (d * Math.PI) / 180;
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lng - a.lng) / 2) ** 2;
  return Math.round(2 * 6371000 * Math.asin(Math.sqrt(h)));
}

function showPosition(problem) {
  const slot = byId("gps-status");
  if (problem) return void (slot.textContent = problem);
  if (!draft.position) return void (slot.textContent = "");
  const parts = [format(texts.gps_position, { accuracy: Math.round(draft.position.accuracy_m) })];
  const lat = parseFloat(app.dataset.lksLat);
  const lng = parseFloat(app.dataset.lksLng);
  if (Number.isNaN(lat) || Number.isNaN(lng)) parts.push(texts.gps_no_point);
  else {
    const distance = distanceM(draft.position, { lat, lng });
    const far = Number(app.dataset.farM);
    parts.push(distance > far ? format(texts.gps_far, { distance: far }) : format(texts.gps_distance, { distance }));
  }
  slot.textContent = parts.join(" ");
}

function locate() {
  if (!navigator.geolocation) return showPosition(texts.gps_unavailable);
  showPosition(texts.gps_waiting);
  navigator.geolocation.getCurrentPosition(
    (position) => {
      draft.position = { lat: position.coords.latitude, lng: position.coords.longitude, accuracy_m: position.coords.accuracy };
      showPosition();
      save();
    },
    (error) => showPosition(error.code === error.PERMISSION_DENIED ? texts.gps_refused : texts.gps_unavailable),
    { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
  );
}

// --- photos, findings, people -----------------------------------------------------------

async function addPhotos(input) {
  const question = input.dataset.question;
  const slot = input.closest(".question").querySelector(".q-error");
  slot.hidden = true;
  for (const file of input.files) {
    try {
      const { blob, width, height } = await photos.downscale(file, { maxBytes: Number(app.dataset.maxPhotoBytes), texts });
      await store.putPhoto({
        client_id: newId("photo"), report_client_id: draft.client_id, task_id: taskId, question_code: question, finding_ref: "",
        blob, width, height, taken_at: new Date().toISOString(), latitude: draft.position ? draft.position.lat : "",
        longitude: draft.position ? draft.position.lng : "", status: "draft",
      });
    } catch (error) {
      slot.textContent = error instanceof photos.PhotoRefused ? error.message : texts.quota;
      slot.hidden = false;
    }
  }
  input.value = "";
  await renderPhotos();
  save();
}

function addFinding(code) {
  collect();
  const due = new Date(Date.now() + 30 * 864e5).toISOString().slice(0, 10);
  draft.findings.push({ ref: newId("f").slice(0, 14), question_code: code, severity: "", description: "", corrective_action: "", due_on: due, responsible: "lks" });
  checklists.renderFindings(byId("checklist"), draft.findings, byId("tpl-finding"), texts);
  save();
}

function onClick(event) {
  const target = event.target.closest("button");
  if (!target || !draft || draft.state !== "draft") return;
  const question = target.closest(".question");
  if (target.classList.contains("add-finding")) addFinding(question.dataset.code);
  else if (target.classList.contains("remove-finding")) {
    target.closest(".finding").remove();
    changed();
  } else if (target.classList.contains("remove-photo")) {
    store.deletePhoto(target.dataset.photo).then(renderPhotos);
  } else if (target.dataset.other !== undefined) {
    draft.others.splice(Number(target.dataset.other), 1);
    renderOthers();
    save();
  }
}

function addOther() {
  const name = byId("f-other-name").value.trim();
  if (!name) return;
  draft.others.push({ name, agency: byId("f-other-agency").value.trim() });
  byId("f-other-name").value = "";
  byId("f-other-agency").value = "";
  renderOthers();
  save();
}

function onChange(event) {
  const target = event.target;
  if (target.matches("input[type=file]")) return void addPhotos(target);
  if (target.id === "f-other-name" || target.id === "f-other-agency") return;
  changed();
  const question = target.closest(".question");
  const isKeyNo = question && target.value === "no" && !question.querySelector(".badge-key").hidden;
  if (isKeyNo && !draft.findings.some((f) => f.question_code === question.dataset.code)) addFinding(question.dataset.code);
}

// --- start ---------------------------------------------------------------------------------

store.onStoreProblem((problem) => say("error", problem === "quota" ? texts.quota : texts.storage_closed));

const outbox = new outboxes.Outbox({
  store, texts, csrf: new outboxes.Csrf(document.querySelector("meta[name=csrf-token]").content), onChange: () => refresh(),
});

async function start() {
  if (!("indexedDB" in self)) return say("error", texts.no_storage);
  store.askPersistence();
  keepOffline();
  draft = await store.getDraft(taskId);
  if (!draft) {
    const all = await getJSON("/api/v1/checklists");
    const checklist = all && all.items.find((item) => item.lks_kind === app.dataset.lksKind);
    if (!checklist) return say("error", texts.no_checklist);
    draft = newDraft(checklist);
    await store.saveDraft(draft);
    locate();
  }
  checklists.renderChecklist(byId("checklist"), draft.checklist, byId("tpl-question"), texts);
  document.querySelectorAll("[data-signature]").forEach((box) => {
    const who = box.dataset.signature;
    pads[who] = signatures.signaturePad(box.querySelector("canvas"), {
      value: draft.signatures[who] || "",
      onChange: (value) => { draft.signatures[who] = value; save(); },
    });
    box.querySelector("[data-clear]").addEventListener("click", () => pads[who].clear());
  });
  await fill();
  form.addEventListener("input", (event) => { if (!event.target.matches("input[type=radio], input[type=file]")) changed(); });
  form.addEventListener("change", onChange);
  form.addEventListener("click", onClick);
  form.addEventListener("submit", submit);
  byId("gps-button").addEventListener("click", locate);
  byId("add-other").addEventListener("click", addOther);
  if (outboxes.channel) {
    outboxes.channel.addEventListener("message", async (event) => {
      if (event.data.task_id !== taskId || event.data.tab === TAB) return;
      const stored = await store.getDraft(taskId);
      if (stored && event.data.type === "draft" && stored.state === "draft") say("info", texts.draft_other_tab);
      if (stored) await adopt(stored);
    });
  }
  await showState();
  await outbox.start();
  addEventListener("online", checkServer);
  return checkServer();
}

start();
