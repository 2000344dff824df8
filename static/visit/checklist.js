// The checklist part of the form: questions section by section (cloned
// from the page's <template>s, whose labels the server translated), the
// findings under each question, the photo thumbnails; reading and writing
// their values. Inputs are named `answer.<code>`; findings carry data-ref.

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
  if (text) node.textContent = text;
  return node;
}

function choiceButtons(name, options) {
  const box = el("div", { class: "choices answer", role: "radiogroup" });
  options.forEach((option) => {
    const label = el("label", { class: `choice answer-${option.value}` });
    label.append(el("input", { type: "radio", name, value: option.value }), el("span", {}, option.label));
    box.append(label);
  });
  return box;
}

function answerInput(question, texts) {
  const name = `answer.${question.code}`;
  if (question.type === "yesno" || question.type === "choice") return choiceButtons(name, question.options);
  if (question.type === "number") return el("input", { type: "number", min: "0", inputmode: "numeric", name, "aria-label": question.text });
  if (question.type === "text") return el("textarea", { rows: "3", name, "aria-label": question.text });
  return choiceButtons(name, [{ value: "na", label: texts.photo_na }]); // photo: answered by a photo, or "not possible"
}

function questionNode(question, template, texts) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.code = question.code;
  node.dataset.type = question.type;
  node.id = `q-${question.code}`;
  node.querySelector(".q-code").textContent = question.code;
  node.querySelector(".q-text").textContent = question.text;
  node.querySelector(".badge-key").hidden = !question.key;
  node.querySelector(".q-keyhelp").hidden = !question.key;
  node.querySelector(".q-input").append(answerInput(question, texts));
  node.querySelector(".q-photos input").dataset.question = question.code;
  return node;
}

export function renderChecklist(container, checklist, template, texts) {
  container.replaceChildren();
  let section = null;
  for (const question of checklist.questions) {
    if (!section || section.dataset.section !== question.section) {
      section = el("section", { class: "card checklist-section", "data-section": question.section });
      section.append(el("h2", {}, `${question.section}. ${question.section_title}`));
      container.append(section);
    }
    section.append(questionNode(question, template, texts));
  }
}

function answerFields(form, code) {
  return [...form.querySelectorAll(`[name="answer.${code}"]`)];
}

export function readAnswers(form, checklist) {
  const answers = {};
  for (const question of checklist.questions) {
    const field = answerFields(form, question.code).find((f) => f.type !== "radio" || f.checked);
    const value = field ? field.value : "";
    if (value === "") continue;
    answers[question.code] = question.type === "number" ? Number(value) : value;
  }
  return answers;
}

export function writeAnswers(form, checklist, answers) {
  for (const question of checklist.questions) {
    const value = answers[question.code] ?? "";
    answerFields(form, question.code).forEach((field) => {
      if (field.type === "radio") field.checked = field.value === String(value);
      else field.value = value;
    });
  }
}

// Each question carries its answer (data-answer), for the styles.
export function markAnswers(container, answers) {
  container.querySelectorAll(".question").forEach((question) => {
    question.dataset.answer = answers[question.dataset.code] ?? "";
  });
}

// --- findings -------------------------------------------------------------------

function findingNode(finding, template, texts) {
  const node = template.content.firstElementChild.cloneNode(true);
  node.dataset.ref = finding.ref;
  node.dataset.question = finding.question_code;
  node.querySelector("legend").textContent = texts.finding_for.replace("%(code)s", finding.question_code);
  node.querySelectorAll("[data-f=severity]").forEach((radio) => {
    radio.name = `finding.${finding.ref}.severity`;
    radio.checked = radio.value === finding.severity;
  });
  node.querySelectorAll("[data-f]:not([type=radio])").forEach((field) => { field.value = finding[field.dataset.f] ?? ""; });
  return node;
}

export function renderFindings(container, findings, template, texts) {
  container.querySelectorAll(".question").forEach((question) => {
    const own = findings.filter((f) => f.question_code === question.dataset.code);
    question.querySelector(".q-findings").replaceChildren(...own.map((f) => findingNode(f, template, texts)));
  });
}

export function readFindings(container) {
  return [...container.querySelectorAll(".finding")].map((node) => {
    const finding = { ref: node.dataset.ref, question_code: node.dataset.question, severity: "" };
    node.querySelectorAll("[data-f]").forEach((field) => {
      if (field.type !== "radio") finding[field.dataset.f] = field.value;
      else if (field.checked) finding.severity = field.value;
    });
    return finding;
  });
}

// --- photos ---------------------------------------------------------------------

const shown = new Map(); // photo client id -> object URL of its thumbnail

export function renderThumbs(container, photos, texts) {
  container.querySelectorAll(".question").forEach((question) => {
    const own = photos.filter((p) => p.question_code === question.dataset.code);
    const items = own.map((photo) => {
      if (!shown.has(photo.client_id) && photo.blob) shown.set(photo.client_id, URL.createObjectURL(photo.blob));
      const item = el("li", { "data-photo": photo.client_id });
      item.append(el("img", { src: shown.get(photo.client_id) || "", alt: "", width: "96", height: "72" }));
      const remove = el("button", { type: "button", class: "button small remove-photo", "data-photo": photo.client_id }, texts.remove);
      item.append(remove);
      return item;
    });
    question.querySelector(".thumbs").replaceChildren(...items);
  });
}

// --- errors next to their item --------------------------------------------------

export function showQuestionErrors(container, errors) {
  container.querySelectorAll(".question").forEach((question) => {
    const code = question.dataset.code;
    const text = [errors[`answers.${code}`], errors[`findings.${code}`], errors[`photos.${code}`]].filter(Boolean).join(" ");
    const slot = question.querySelector(".q-error");
    slot.textContent = text;
    slot.hidden = !text;
    question.classList.toggle("has-error", Boolean(text));
  });
}
