// The outbox: reports and photos wait in IndexedDB until the server has
// them. Sent on submit, on the `online` event, on page load and on a timer
// while anything waits (never Background Sync alone). Every report and photo
// carries its client id, so a resend is harmless: 200 for an id the server
// already stored counts as sent. One tab sends at a time (Web Locks).
// A shared tablet: a report carries the account that queued it ("author")
// and waits for that account; the next one to sign in never sends it.

const RETRY_MAX_MS = 60_000;
const TICK_MS = 5_000;
export const channel = "BroadcastChannel" in self ? new BroadcastChannel("sigap-visits") : null;

function backoff(item) {
  const attempts = (item.attempts || 0) + 1;
  return { ...item, attempts, next_at: Date.now() + Math.min(RETRY_MAX_MS, 1000 * 2 ** attempts) };
}

function due(item) {
  return !item.next_at || item.next_at <= Date.now();
}

// The account signed in on this page (base.html), or null.
export function signedInUser() {
  const meta = document.querySelector("meta[name=sigap-user]");
  return meta ? Number(meta.content) : null;
}

function mine(report) {
  const author = report.body && report.body.author;
  return author === undefined || author === null || author === signedInUser();
}

export function format(text, params) {
  return text.replace(/%\((\w+)\)s/g, (_m, name) => String(params[name] ?? ""));
}

async function answer(response) {
  try {
    return await response.json();
  } catch (error) {
    return {};
  }
}

export class Outbox {
  constructor({ store, texts, csrf, onChange }) {
    this.store = store;
    this.texts = texts;
    this.csrf = csrf;
    this.onChange = onChange;
    this.timer = null;
  }

  start() {
    addEventListener("online", () => this.retryNow());
    if (channel) channel.addEventListener("message", () => this.onChange());
    this.timer = setInterval(() => this.flush(), TICK_MS);
    return this.flush();
  }

  async retryNow() {
    const reports = await this.store.allReports();
    await Promise.all(reports.filter((r) => r.status === "waiting").map((r) => this.store.putReport({ ...r, next_at: 0 })));
    return this.flush();
  }

  async flush() {
    const work = () => this.sendAll().finally(() => this.onChange());
    if (navigator.locks) return navigator.locks.request("sigap-outbox", { ifAvailable: true }, (lock) => (lock ? work() : null));
    return work();
  }

  async sendAll() {
    for (const report of await this.store.allReports()) {
      if (report.status !== "waiting") continue;
      if (!mine(report)) {
        if (report.message !== this.texts.other_author) await this.store.putReport({ ...report, message: this.texts.other_author });
      } else if (due(report)) {
        await this.sendReport(report);
      }
    }
    const sent = new Map((await this.store.allReports()).filter((r) => r.status === "sent" && mine(r)).map((r) => [r.client_id, r]));
    for (const photo of await this.store.allPhotos()) {
      const report = sent.get(photo.report_client_id);
      if (report && photo.status === "queued" && due(photo)) await this.sendPhoto(photo, report.visit_id);
    }
  }

  async post(url, body, json) {
    const headers = { "X-CSRFToken": await this.csrf.token(), Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method: "POST", body: json ? JSON.stringify(body) : body, headers, credentials: "same-origin" });
    const data = await answer(response);
    if (response.status === 403 && data.error === "csrf") {
      this.csrf.forget();
    }
    return { status: response.status, data };
  }

  // What the server's answer means for the item: sent, try later or failed.
  classify(status, data) {
    if (status === 200 || status === 201) return "sent";
    if (status === 409) return "conflict";
    if (status === 401) return "signin";
    if (status >= 500 || status === 429 || (status === 403 && data.error === "csrf")) return "later";
    return "failed";
  }

  async sendReport(report) {
    let result;
    try {
      result = await this.post(report.url || "/api/v1/visits", report.body, true);
    } catch (error) {
      return this.store.putReport({ ...backoff(report), message: this.texts.offline }); // no network
    }
    const outcome = this.classify(result.status, result.data);
    if (outcome === "later" || outcome === "signin") {
      const message = outcome === "signin" ? this.texts.signin_again : "";
      return this.store.putReport({ ...backoff(report), message });
    }
    const data = result.data;
    if (outcome === "sent") {
      const missing = new Set(data.photos_missing || []);
      const done = { ...report, status: "sent", visit_id: data.id, sent_at: new Date().toISOString(), message: "", fields: {} };
      await this.store.settle(done, "sent", (p) => ({ ...p, visit_id: data.id, status: missing.has(p.client_id) || !data.photos_missing ? "queued" : "sent" }));
    } else {
      const kept = { ...report, status: outcome, message: data.message || String(result.status), fields: data.fields || {} };
      // Invalid: back to a draft the inspector corrects; in conflict: kept side by side.
      await this.store.settle(kept, outcome === "failed" ? "draft" : "conflict", (p) => ({ ...p, status: outcome === "failed" ? "draft" : p.status }));
    }
    if (channel) channel.postMessage({ type: "report", task_id: report.task_id, client_id: report.client_id });
    return null;
  }

  async sendPhoto(photo, visitId) {
    const form = new FormData();
    for (const name of ["client_id", "question_code", "finding_ref", "taken_at", "latitude", "longitude"]) {
      form.append(name, photo[name] ?? "");
    }
    form.append("file", photo.blob, `${photo.client_id}.jpg`);
    let result;
    try {
      result = await this.post(`/api/v1/visits/${visitId}/photos`, form, false);
    } catch (error) {
      return this.store.putPhoto(backoff(photo));
    }
    const outcome = this.classify(result.status, result.data);
    if (outcome === "sent") return this.store.putPhoto({ ...photo, status: "sent", blob: null, message: "" }); // space back
    if (outcome === "later" || outcome === "signin") return this.store.putPhoto(backoff(photo));
    const fields = result.data.fields || {};
    const message = result.status === 413 ? this.texts.photo_large : fields.file || result.data.message || String(result.status);
    return this.store.putPhoto({ ...photo, status: "failed", message });
  }
}

// What waits, for the status line: counts and the last report sent.
export async function summary(store) {
  const reports = await store.allReports();
  const photos = await store.allPhotos();
  const sent = reports.filter((r) => r.status === "sent").sort((a, b) => (a.sent_at < b.sent_at ? 1 : -1));
  return {
    reports: reports.filter((r) => r.status === "waiting").length,
    photos: photos.filter((p) => p.status === "queued").length,
    lastSent: sent[0] || null,
    reportsByTask: new Map(reports.map((r) => [r.task_id, r])),
  };
}

// The CSRF token: the page's, or a fresh one from the server when the
// cookie changed since the page was cached.
export class Csrf {
  constructor(initial) {
    this.value = initial;
  }

  forget() {
    this.value = "";
  }

  async token() {
    if (this.value) return this.value;
    const response = await fetch("/visits/outbox", { cache: "no-store", credentials: "same-origin", headers: { "X-SIGAP-Network": "1" } });
    const html = await response.text();
    const match = html.match(/<meta name="csrf-token" content="([^"]+)"/);
    this.value = match ? match[1] : "";
    return this.value;
  }
}
