// Shown signed out (the sign-in page): the pages the service worker kept for
// the last inspector's offline work (task pages, visit forms, LKS field
// profiles) are dropped, so the next person on a shared tablet cannot open
// them without the network. Unsent reports stay in the outbox (IndexedDB):
// they wait for the account that wrote them.
if ("caches" in self) caches.delete("sigap-runtime-v1").catch(() => null);
// The worker also forgets when it last kept the day's work, so the next
// account's tasks are kept as soon as its task list opens.
if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("signed-out");
