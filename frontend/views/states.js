// The live list: every entity grouped by area with its value, unit and last update.

import { getLanguage, onLanguageChange, t } from "../i18n.js";
import { h, replaceChildren } from "../lib/dom.js";
import { formatState, formatTime } from "../lib/format.js";
import { registerView } from "../lib/router.js";
import { isConfigProblem } from "./notifications.js";

const OTHER_AREA = "";

/** Areas in tree order (parents before their children), each with its path of names. */
function areasInTreeOrder(areas) {
  const children = new Map();
  for (const [id, area] of areas) {
    const parent = area.parent_id && areas.has(area.parent_id) ? area.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(id);
  }
  const ordered = [];
  const visit = (parent, path) => {
    for (const id of children.get(parent) || []) {
      const names = [...path, areas.get(id).name];
      ordered.push({ id, path: names });
      if (names.length < 16) visit(id, names);
    }
  };
  visit(null, []);
  return ordered;
}

/**
 * Entity ids in the hub's order: the entity registry's, which follows the integration (devices
 * as the plant is laid out), with each device's entities together where its first one stands.
 * Entities the registry does not know come last, by name.
 */
export function inHubOrder(entityIds, store) {
  const left = new Set(entityIds);
  const runs = [];
  const runOfDevice = new Map();
  for (const [entityId, entry] of store.registry) {
    if (!left.delete(entityId)) continue;
    let run = entry.device_id ? runOfDevice.get(entry.device_id) : undefined;
    if (!run) {
      run = [];
      runs.push(run);
      if (entry.device_id) runOfDevice.set(entry.device_id, run);
    }
    run.push(entityId);
  }
  const collator = new Intl.Collator(getLanguage(), { numeric: true, sensitivity: "base" });
  const byName = (a, b) => collator.compare(store.nameOf(a), store.nameOf(b)) || (a < b ? -1 : 1);
  return [...runs.flat(), ...[...left].sort(byName)];
}

/** Entity ids by area, in area tree order, entities in the hub's order; no area comes last. */
export function groupByArea(store) {
  const buckets = new Map();
  for (const entityId of store.states.keys()) {
    const area = store.areaOf(entityId);
    const key = area ? area.area_id ?? area.id : OTHER_AREA;
    if (!buckets.has(key)) buckets.set(key, []);
    buckets.get(key).push(entityId);
  }
  const groups = [];
  for (const { id, path } of areasInTreeOrder(store.areas)) {
    if (buckets.has(id)) groups.push({ id, title: path.join(" › "), entities: buckets.get(id) });
  }
  if (buckets.has(OTHER_AREA)) {
    groups.push({ id: OTHER_AREA, title: t("states.other_area"), entities: buckets.get(OTHER_AREA) });
  }
  for (const group of groups) group.entities = inHubOrder(group.entities, store);
  return groups;
}

/** What to say when there is nothing to list: why, if a notification above tells. */
function emptyState(store) {
  if (store.notifications.some(isConfigProblem)) {
    return h("p", { class: "placeholder" }, t("states.empty_config"));
  }
  if (store.notifications.length > 0) {
    return h("p", { class: "placeholder" }, t("states.empty_notifications"));
  }
  return h(
    "div",
    { class: "placeholder" },
    h("p", {}, t("states.empty")),
    h("p", { class: "placeholder-hint" }, t("states.empty_hint")),
  );
}

function buildRow(entityId) {
  return h(
    "li",
    { class: "entity", dataset: { entityId } },
    h("span", { class: "entity-name" }),
    h(
      "span",
      { class: "entity-value" },
      h("span", { class: "value" }),
      h("span", { class: "unit" }),
    ),
    h(
      "span",
      { class: "entity-meta" },
      h("span", { class: "sim-tag" }, t("simulated.row")),
      h("time", { class: "entity-updated" }),
    ),
  );
}

function patchRow(row, store, markSimulated) {
  const entityId = row.dataset.entityId;
  const state = store.states.get(entityId);
  const shown = formatState(state);
  row.classList.toggle("is-unavailable", shown.kind === "unavailable");
  row.classList.toggle("is-unknown", shown.kind === "unknown");
  row.classList.toggle("is-number", shown.kind === "number");
  row.classList.toggle("is-simulated", markSimulated && state?.attributes.simulated === true);
  row.querySelector(".entity-name").textContent = store.nameOf(entityId);
  row.querySelector(".entity-name").title = entityId;
  row.querySelector(".value").textContent = shown.text;
  row.querySelector(".unit").textContent = shown.unit;
  const time = row.querySelector(".entity-updated");
  const updated = state?.last_updated;
  time.textContent = updated ? t("states.updated", { time: formatTime(updated, store.config?.time_zone) }) : "";
  time.dateTime = updated ? new Date(updated * 1000).toISOString() : "";
}

function mount(container, { store }) {
  const root = h("section", { class: "states-view", "aria-live": "off" });
  container.append(root);
  const rows = new Map();
  let pending = new Set();
  let rebuild = true;
  let frame = null;
  let markSimulated = false;

  const render = () => {
    frame = null;
    const simulated = store.countSimulated();
    const mixed = simulated > 0 && simulated < store.states.size;
    if (mixed !== markSimulated) rebuild = true;
    markSimulated = mixed;
    if (rebuild) {
      renderAll();
    } else {
      for (const entityId of pending) {
        const row = rows.get(entityId);
        if (row) patchRow(row, store, markSimulated);
      }
    }
    pending = new Set();
    rebuild = false;
  };

  const renderAll = () => {
    rows.clear();
    if (!store.statesLoaded) {
      replaceChildren(root, h("p", { class: "placeholder" }, t("states.loading")));
      return;
    }
    const groups = groupByArea(store);
    if (groups.length === 0) {
      replaceChildren(root, emptyState(store));
      return;
    }
    const cards = groups.map((group) => {
      const list = h("ul", { class: "entity-list" });
      for (const entityId of group.entities) {
        const row = buildRow(entityId);
        patchRow(row, store, markSimulated);
        rows.set(entityId, row);
        list.append(row);
      }
      return h(
        "article",
        { class: "area-card", dataset: { areaId: group.id } },
        h(
          "h2",
          { class: "area-title" },
          h("span", { class: "area-name" }, group.title),
          h("span", { class: "area-count" }, t("states.count", { count: group.entities.length })),
        ),
        list,
      );
    });
    replaceChildren(root, cards);
  };

  const schedule = () => {
    frame ??= requestAnimationFrame(render);
  };
  const stopStore = store.subscribe(({ states, structure, notifications }) => {
    if (structure || (notifications && rows.size === 0)) rebuild = true;
    for (const entityId of states) pending.add(entityId);
    schedule();
  });
  const stopLanguage = onLanguageChange(() => {
    rebuild = true;
    schedule();
  });
  render();

  return () => {
    stopStore();
    stopLanguage();
    if (frame !== null) cancelAnimationFrame(frame);
    root.remove();
  };
}

registerView({ id: "states", titleKey: "nav.states", mount });
