// The report as it leaves the device: the checks made before it is queued
// (the same rules the server applies, so a report rarely fails later), and
// the body of POST /api/v1/visits built from the draft.

export function localErrors(draft, photoList, texts) {
  const errors = {};
  const withPhoto = new Set(photoList.map((p) => p.question_code));
  const withFinding = new Set(draft.findings.map((f) => f.question_code));
  for (const q of draft.checklist.questions) {
    const answer = draft.answers[q.code];
    if (answer === undefined && !(q.type === "photo" && withPhoto.has(q.code))) errors[`answers.${q.code}`] = texts.answer_required;
    if (q.key && answer === "no" && !withFinding.has(q.code)) errors[`findings.${q.code}`] = texts.key_needs_finding;
    if (q.key && answer === "no" && !withPhoto.has(q.code)) errors[`photos.${q.code}`] = texts.key_needs_photo;
  }
  draft.findings.forEach((f, index) => {
    if (!f.severity || f.description.trim().length < 5 || f.corrective_action.trim().length < 5 || !f.due_on) {
      errors[`findings.${index}`] = texts.finding_incomplete;
    }
  });
  if (draft.announced === null) errors.announced = texts.answer_required;
  if (!draft.outcome) errors.outcome = texts.choose_outcome;
  if (!draft.signatures.lead) errors["signatures.lead"] = texts.sign_here;
  return errors;
}

export function reportBody(draft, photoList, team) {
  const residents = {};
  ["male", "female"].forEach((sex) => ["0_5", "6_12", "13_17", "18_plus"].forEach((band) => {
    residents[`${sex}_${band}`] = draft.residents[`${sex}_${band}`] || 0;
  }));
  const present = draft.members.map((i) => ({ kind: team[i].kind, user_id: team[i].user_id, name: team[i].name, agency: team[i].agency }));
  draft.others.forEach((p) => present.push({ kind: "partner", user_id: null, name: p.name, agency: p.agency }));
  if (draft.lks_head.trim()) present.push({ kind: "lks_head", user_id: null, name: draft.lks_head.trim(), agency: "" });
  return {
    client_id: draft.client_id, task_id: draft.task_id, checklist_id: draft.checklist.id, announced: draft.announced,
    started_at: draft.started_at, position: draft.position, present, residents_present: residents, answers: draft.answers,
    findings: draft.findings, photos: photoList.map((p) => ({ client_id: p.client_id, question_code: p.question_code, finding_ref: p.finding_ref })),
    signatures: draft.signatures, outcome: draft.outcome, summary: draft.summary, internal_notes: draft.internal_notes,
  };
}
