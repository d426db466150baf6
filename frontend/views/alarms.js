// The active alarms, newest first: severity, message in the page's language, source, when,
// how often, who acknowledged; operators acknowledge (with a note) and clear them here.

import { getLanguage, onLanguageChange, t } from "../i18n.js";
import { h, replaceChildren } from "../lib/dom.js";
import { formatTime } from "../lib/format.js";
import { registerView } from "../lib/router.js";

const DOMAIN = "alarm";
const SEVERITIES = ["critical", "major", "minor", "warning"];
const MAX_NOTE_LENGTH = 1000;

/** Whether the hub runs the alarm integration (its entities and services exist). */
export function alarmsAvailable(store) {
  return Boolean(store.config?.components?.includes(DOMAIN));
}

/** True for the entity of an active alarm (`alarm.<key>`, with the alarm's fields). */
function isAlarm(state) {
  return state.entity_id.startsWith(`${DOMAIN}.`) && typeof state.attributes.key === "string";
}

function seconds(iso) {
  const parsed = Date.parse(iso);
  return Number.isFinite(parsed) ? parsed / 1000 : null;
}

/** The active alarms' states, newest first (by when each was raised). */
export function activeAlarms(store) {
  const alarms = [...store.states.values()].filter(isAlarm);
  return alarms.sort(
    (a, b) =>
      (seconds(b.attributes.raised_at) ?? 0) - (seconds(a.attributes.raised_at) ?? 0) ||
      (a.entity_id < b.entity_id ? -1 : 1),
  );
}

/** The header badge of the view: how many alarms are active, urgent while any is unanswered. */
function badge(store) {
  const alarms = activeAlarms(store);
  const unacknowledged = alarms.filter((state) => state.state === "active").length;
  return {
    count: alarms.length,
    urgent: unacknowledged > 0,
    title: t("alarms.badge_title", { count: alarms.length, unacknowledged }),
  };
}

/** The message in the page's language, else the other one, else the entity's name. */
function messageOf(state) {
  const { messages, message, friendly_name: name } = state.attributes;
  return messages?.[getLanguage()] || messages?.["zh-CN"] || messages?.en || message || name ||
    state.entity_id;
}

function severityOf(state) {
  const severity = String(state.attributes.severity || "");
  return SEVERITIES.includes(severity) ? severity : "warning";
}

/** A user as the page knows them: the logged-in user by name, others by username. */
function userName(username, store) {
  const user = store.user;
  if (user && username === user.username) return user.name || user.username;
  return username === "system" ? t("alarms.system") : username;
}

function field(name, label, ...value) {
  return h(
    "span",
    { class: "alarm-field", dataset: { field: name } },
    h("span", { class: "alarm-label" }, label),
    h("span", { class: "alarm-value" }, ...value),
  );
}

function fields(state, store) {
  const zone = store.config?.time_zone;
  const at = (iso) => {
    const time = seconds(iso);
    return time === null ? "" : h("time", { datetime: iso }, formatTime(time, zone));
  };
  const { source, raised_at: raised, last_raised_at: last, count, note } = state.attributes;
  const sourceName = source && store.nameOf(source);
  const acknowledged = state.attributes.acknowledged_at;
  const lastTime = count > 1 && seconds(last) !== null ? formatTime(seconds(last), zone) : "";
  const raisedTime = seconds(raised) !== null ? formatTime(seconds(raised), zone) : "";
  return [
    source &&
      field(
        "source", t("alarms.source"),
        h("span", { class: "alarm-source-name", title: source }, sourceName),
        sourceName !== source && h("span", { class: "alarm-source-id" }, source),
      ),
    field("raised", t("alarms.raised"), at(raised)),
    field(
      "count", t("alarms.count"),
      h("span", { class: "alarm-count" }, String(count ?? 1)),
      lastTime && lastTime !== raisedTime &&
        h("span", { class: "alarm-last" }, t("alarms.last", { time: lastTime })),
    ),
    acknowledged &&
      field(
        "acknowledged", t("alarms.acknowledged_by"),
        h("span", { class: "alarm-ack-user" }, userName(state.attributes.acknowledged_by, store)),
        h("span", { class: "alarm-ack-time" }, at(acknowledged)),
      ),
    note && field("note", t("alarms.note"), h("span", { class: "alarm-note" }, note)),
  ];
}

async function callService(connection, service, serviceData) {
  await connection.sendMessage({
    type: "call_service", domain: DOMAIN, service, service_data: serviceData,
  });
}

/** One alarm's card: the parts that change are rebuilt, the note being typed is kept. */
function buildRow(entityId, context) {
  const { connection } = context;
  const parts = {
    head: h("div", { class: "alarm-head" }),
    fields: h("div", { class: "alarm-fields" }),
    note: h("input", {
      class: "alarm-note-input", name: "note", maxlength: MAX_NOTE_LENGTH, autocomplete: "off",
    }),
    acknowledge: h("button", { type: "submit", class: "alarm-acknowledge primary" }),
    clear: h("button", { type: "button", class: "alarm-clear" }),
    problem: h("p", { class: "alarm-problem", role: "alert", hidden: true }),
  };
  const run = async (service, serviceData, button) => {
    parts.acknowledge.disabled = true;
    parts.clear.disabled = true;
    parts.problem.hidden = true;
    try {
      await callService(connection, service, serviceData);
      if (service === "acknowledge") parts.note.value = "";
    } catch (err) {
      parts.problem.textContent = t("alarms.failed", { detail: err.message });
      parts.problem.hidden = false;
      button.focus();
    } finally {
      parts.acknowledge.disabled = false;
      parts.clear.disabled = false;
    }
  };
  parts.form = h(
    "form",
    {
      class: "alarm-ack-form",
      onsubmit: (event) => {
        event.preventDefault();
        const note = parts.note.value.trim();
        run("acknowledge", { key: parts.key, ...(note ? { note } : {}) }, parts.acknowledge);
      },
    },
    parts.note,
    parts.acknowledge,
  );
  parts.clear.addEventListener("click", () => run("clear", { key: parts.key }, parts.clear));
  parts.actions = h("div", { class: "alarm-actions" }, parts.form, parts.clear);
  parts.row = h(
    "li",
    { class: "alarm", dataset: { entityId } },
    h("div", { class: "alarm-body" }, parts.head, parts.fields, parts.problem),
    parts.actions,
  );
  return parts;
}

function patchRow(parts, state, store) {
  const severity = severityOf(state);
  const acknowledged = state.state === "acknowledged";
  const { row } = parts;
  parts.key = state.attributes.key;
  row.dataset.key = parts.key;
  row.dataset.severity = severity;
  row.dataset.state = state.state;
  row.classList.toggle("is-acknowledged", acknowledged);
  replaceChildren(
    parts.head,
    h("span", { class: "alarm-severity" }, t(`alarms.severity.${severity}`)),
    h("h2", { class: "alarm-message" }, messageOf(state)),
    state.attributes.flapping === true &&
      h("span", { class: "alarm-flapping", title: t("alarms.flapping_title") }, t("alarms.flapping")),
    h("span", { class: "alarm-state" }, t(`state.alarm.${acknowledged ? "acknowledged" : "active"}`)),
  );
  replaceChildren(parts.fields, fields(state, store));
  parts.actions.hidden = !store.canAct();
  parts.form.hidden = acknowledged;
  parts.note.placeholder = t("alarms.note_placeholder");
  parts.note.setAttribute("aria-label", t("alarms.note_placeholder"));
  parts.acknowledge.textContent = t("alarms.acknowledge");
  parts.acknowledge.title = t("alarms.acknowledge_title");
  parts.clear.textContent = t("alarms.clear");
  parts.clear.title = t("alarms.clear_title");
}

function mount(container, context) {
  const { store } = context;
  const summary = h("p", { class: "alarms-summary", role: "status" });
  const title = h("h1", { class: "alarms-title" });
  const list = h("ul", { class: "alarm-list" });
  const placeholder = h("p", { class: "placeholder" });
  const hint = h("p", { class: "alarms-hint" });
  const root = h(
    "section",
    { class: "alarms-view" },
    h("div", { class: "alarms-top" }, title, summary),
    hint,
    list,
    placeholder,
  );
  container.append(root);
  const rows = new Map();
  let frame = null;

  const render = () => {
    frame = null;
    title.textContent = t("nav.alarms");
    const alarms = store.statesLoaded ? activeAlarms(store) : [];
    const unacknowledged = alarms.filter((state) => state.state === "active").length;
    summary.textContent = alarms.length
      ? t("alarms.summary", { count: alarms.length, unacknowledged })
      : "";
    hint.hidden = !store.user || store.canAct() || alarms.length === 0;
    hint.textContent = t("alarms.viewer_hint");
    placeholder.hidden = alarms.length > 0;
    if (!store.statesLoaded) placeholder.textContent = t("alarms.loading");
    else if (store.config && !alarmsAvailable(store)) placeholder.textContent = t("alarms.not_set_up");
    else placeholder.textContent = t("alarms.empty");

    const wanted = new Set(alarms.map((state) => state.entity_id));
    for (const [entityId, parts] of rows) {
      if (!wanted.has(entityId)) {
        parts.row.remove();
        rows.delete(entityId);
      }
    }
    alarms.forEach((state, index) => {
      let parts = rows.get(state.entity_id);
      if (!parts) {
        parts = buildRow(state.entity_id, context);
        rows.set(state.entity_id, parts);
      }
      patchRow(parts, state, store);
      // Only move rows that are out of place, so a note being typed keeps its focus.
      const here = list.children[index] ?? null;
      if (here !== parts.row) list.insertBefore(parts.row, here);
    });
  };

  const schedule = () => {
    frame ??= requestAnimationFrame(render);
  };
  const stops = [
    store.subscribe(({ states, structure }) => {
      if (structure || [...states].some((entityId) => entityId.startsWith(`${DOMAIN}.`))) {
        schedule();
      }
    }),
    onLanguageChange(schedule),
  ];
  render();

  return () => {
    for (const stop of stops) stop();
    if (frame !== null) cancelAnimationFrame(frame);
    root.remove();
  };
}

registerView({ id: "alarms", titleKey: "nav.alarms", mount, available: alarmsAvailable, badge });
