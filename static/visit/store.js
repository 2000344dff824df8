// The device's own store of visit reports (IndexedDB), shared by every tab:
//   drafts  (key task_id)   the form as typed, with its client id and checklist
//   photos  (key client_id) downscaled photos and their fields, with a status
//   outbox  (key client_id) reports waiting to be sent, sent, failed or in conflict
// A small wrapper of our own rather than a library: four operations, and the
// two failures the issue names (the browser closing the database, a full
// device) need handling no wrapper does for us.

const DB_NAME = "sigap-visits";
const DB_VERSION = 1;
let opening = null;
const listeners = new Set();

export function onStoreProblem(fn) {
  listeners.add(fn);
}

function tell(problem) {
  listeners.forEach((fn) => fn(problem));
}

function upgrade(db) {
  db.createObjectStore("drafts", { keyPath: "task_id" });
  db.createObjectStore("photos", { keyPath: "client_id" }).createIndex("report", "report_client_id");
  db.createObjectStore("outbox", { keyPath: "client_id" });
}

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => upgrade(request.result);
      request.onsuccess = () => {
        const db = request.result;
        db.onclose = () => { opening = null; tell("closed"); }; // closed by the browser (memory, storage cleared)
        db.onversionchange = () => { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = () => { opening = null; reject(request.error); };
    });
  }
  return opening;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function inTransaction(db, names, mode, work) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
    const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
    Promise.resolve(work(stores)).then((value) => { result = value; }, (error) => { tx.abort(); reject(error); });
  });
}

// Run `work({store: IDBObjectStore})` in one transaction; reopen once if the
// browser closed the database under us; tell the page when the device is full.
export async function run(names, mode, work) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await inTransaction(await open(), names, mode, work);
    } catch (error) {
      if (error && error.name === "InvalidStateError" && attempt === 0) {
        opening = null;
        tell("closed");
        continue;
      }
      if (error && error.name === "QuotaExceededError") tell("quota");
      throw error;
    }
  }
}

export const getDraft = (taskId) => run(["drafts"], "readonly", (s) => done(s.drafts.get(taskId)));

// Save a draft; an edit never undoes another tab's queueing or sending
// (`reopen` does, on purpose: correcting a returned report). Returns the
// stored draft (the caller's when saved, the other tab's when not).
export const saveDraft = (draft, reopen = false) =>
  run(["drafts"], "readwrite", async (s) => {
    const stored = await done(s.drafts.get(draft.task_id));
    const undoes = stored && stored.client_id === draft.client_id && stored.state !== "draft" && draft.state === "draft";
    if (undoes && !reopen) return stored;
    await done(s.drafts.put(draft));
    return draft;
  });

export const putPhoto = (photo) => run(["photos"], "readwrite", (s) => done(s.photos.put(photo)));
export const deletePhoto = (clientId) => run(["photos"], "readwrite", (s) => done(s.photos.delete(clientId)));
export const photosOf = (reportClientId) =>
  run(["photos"], "readonly", (s) => done(s.photos.index("report").getAll(reportClientId)));
export const allPhotos = () => run(["photos"], "readonly", (s) => done(s.photos.getAll()));
export const allReports = () => run(["outbox"], "readonly", (s) => done(s.outbox.getAll()));
export const putReport = (report) => run(["outbox"], "readwrite", (s) => done(s.outbox.put(report)));

// Submitting: the draft, its report and its photos change state together.
export const queue = (draft, report) =>
  run(["drafts", "outbox", "photos"], "readwrite", async (s) => {
    const photos = await done(s.photos.index("report").getAll(draft.client_id));
    const unsent = photos.filter((p) => p.status !== "sent");
    await Promise.all(unsent.map((p) => done(s.photos.put({ ...p, status: "queued", next_at: 0 }))));
    await done(s.outbox.put(report));
    await done(s.drafts.put({ ...draft, state: "queued" }));
  });

// The server answered for a report: update it, its draft and its photos at once.
export const settle = (report, draftState, photoChange) =>
  run(["drafts", "outbox", "photos"], "readwrite", async (s) => {
    await done(s.outbox.put(report));
    const draft = await done(s.drafts.get(report.task_id));
    if (draft && draft.client_id === report.client_id) {
      await done(s.drafts.put({ ...draft, state: draftState, server_errors: report.fields || {} }));
    }
    const photos = await done(s.photos.index("report").getAll(report.client_id));
    await Promise.all(photos.map((p) => done(s.photos.put(photoChange(p)))));
  });

export async function askPersistence() {
  if (navigator.storage && navigator.storage.persist) {
    try {
      return await navigator.storage.persist();
    } catch (error) {
      return false;
    }
  }
  return false;
}
