// Installs SIGAP's service worker from the task list and asks it to keep
// the open tasks (their pages, forms, LKS field profiles and the
// checklists), so they open on the tablet with no network.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => null);
  navigator.serviceWorker.ready.then((registration) => registration.active.postMessage("keep-tasks"));
}
