// SIGAP's service worker (scope "/"): the visit form opens with no network.
// Served by /sw.js, which puts VERSION and ASSETS (content-hashed URLs of the
// form's script, styles and icons) above this text.
//   - static files: from the cache first (their URLs change with their content);
//   - the inspector's pages and the data the form reads (task pages, visit
//     forms, checklists, LKS field profiles, the task list): from the network
//     first, kept for when there is none;
//   - opening the task list online also keeps every open task's page, form
//     and LKS field profile (the list asks: "keep-tasks"), so the day's
//     visits work offline;
//   - everything else (and every write) goes to the network untouched: the
//     outbox in the page decides what to resend, not this worker;
//   - signed out (the sign-in page, or a kept page answered by a redirect to
//     it), the kept pages are dropped: the next person on a shared tablet
//     cannot read them offline.

const STATIC_CACHE = `sigap-static-${VERSION}`;
const RUNTIME_CACHE = "sigap-runtime-v1";
const KEPT = [
  /^\/tasks\/?$/, /^\/tasks\/\d+$/, /^\/tasks\/\d+\/visit$/, /^\/visits\/outbox$/,
  /^\/api\/v1\/checklists\/?$/, /^\/api\/v1\/lks\/\d+\/field$/, /^\/api\/v1\/tasks\/?$/,
];
const PREFETCH_TASKS = 30;
const PREFETCH_EVERY_MS = 10 * 60 * 1000;
let lastPrefetch = 0;

self.addEventListener("install", (event) => {
  // One file that fails to arrive must not keep the worker from installing:
  // it is fetched (and kept) the first time the page asks for it.
  const keep = (cache) => Promise.all([...ASSETS, "/manifest.webmanifest"].map((url) => cache.add(url).catch(() => null)));
  event.waitUntil(caches.open(STATIC_CACHE).then(keep).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  const stale = (name) => name.startsWith("sigap-static-") && name !== STATIC_CACHE;
  event.waitUntil(caches.keys().then((names) => Promise.all(names.filter(stale).map((n) => caches.delete(n)))).then(() => self.clients.claim()));
});

async function cacheFirst(event) {
  const cached = await caches.match(event.request);
  if (cached) return cached;
  const response = await fetch(event.request);
  if (response.ok) event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.put(event.request, response.clone())).catch(() => null));
  return response;
}

async function networkFirst(event) {
  const request = event.request;
  const cache = await caches.open(RUNTIME_CACHE);
  let response;
  try {
    response = await fetch(request);
  } catch (error) {
    const cached = await cache.match(request, { ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
  if (response.redirected && new URL(response.url).pathname === "/login") {
    // The session is over: what was kept for it goes too (shared tablets).
    event.waitUntil(forget());
  } else if (response.ok && !response.redirected) {
    event.waitUntil(cache.put(request, response.clone()).catch(() => null));
  }
  return response;
}

// Signed out: drop what was kept, and keep the next account's work at once
// (not after PREFETCH_EVERY_MS).
function forget() {
  lastPrefetch = 0;
  return caches.delete(RUNTIME_CACHE).catch(() => null);
}

// The day's work, kept while there is a network: each open task's page and
// form, its LKS's field profile, the checklists.
async function prefetchTasks() {
  if (Date.now() - lastPrefetch < PREFETCH_EVERY_MS) return;
  lastPrefetch = Date.now();
  const cache = await caches.open(RUNTIME_CACHE);
  const keep = (url) => fetch(url, { credentials: "same-origin" }).then((r) => (r.ok && !r.redirected ? cache.put(url, r) : null)).catch(() => null);
  const response = await fetch("/api/v1/tasks?status=open,in_progress", { credentials: "same-origin" }).catch(() => null);
  if (!response || !response.ok) return;
  const tasks = (await response.json()).items.slice(0, PREFETCH_TASKS);
  await keep("/api/v1/checklists");
  for (const task of tasks) {
    await Promise.all([keep(`/tasks/${task.id}/visit`), keep(`/tasks/${task.id}`), keep(`/api/v1/lks/${task.lks}/field`)]);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(cacheFirst(event));
  } else if (KEPT.some((pattern) => pattern.test(url.pathname)) && !request.headers.has("X-SIGAP-Network")) {
    event.respondWith(networkFirst(event));
  }
});

// The task list asks for the day's work to be kept (see register.js); the
// sign-in page says the last account has gone (signed-out.js).
self.addEventListener("message", (event) => {
  if (event.data === "keep-tasks") event.waitUntil(prefetchTasks());
  if (event.data === "signed-out") event.waitUntil(forget());
});
