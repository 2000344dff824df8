// The outbox page: every report this device holds, what waits and what was
// sent, for all tasks at once; it sends what waits like the form does.

const json = (id) => JSON.parse(document.getElementById(id).textContent);
const texts = json("visit-texts");
const urls = json("visit-modules");
const [store, outboxes] = await Promise.all([urls.store, urls.outbox].map((url) => import(url)));
const { format } = outboxes;

function describe(report) {
  if (report.status === "sent") return format(texts.sent_report, { at: new Date(report.sent_at).toLocaleString("id-ID") });
  if (report.status === "failed") return format(texts.failed, { message: report.message });
  if (report.status === "conflict") return texts.conflict;
  return report.message ? `${texts.queued} ${report.message}` : texts.queued;
}

async function render() {
  const now = await outboxes.summary(store);
  document.getElementById("visit-status").textContent = now.reports || now.photos ? format(texts.waiting, now) : texts.nothing_waiting;
  const reports = (await store.allReports()).sort((a, b) => (a.queued_at < b.queued_at ? 1 : -1));
  document.getElementById("outbox-list").replaceChildren(...reports.map((report) => {
    const item = document.createElement("li");
    const link = Object.assign(document.createElement("a"), { href: `/tasks/${report.task_id}/visit`, textContent: report.lks_name || `#${report.task_id}` });
    item.append(link, document.createElement("br"), describe(report));
    item.className = `outbox-${report.status}`;
    return item;
  }));
}

const csrf = new outboxes.Csrf(document.querySelector("meta[name=csrf-token]").content);
new outboxes.Outbox({ store, texts, csrf, onChange: render }).start();
navigator.serviceWorker?.register("/sw.js", { scope: "/" }).catch(() => null);
