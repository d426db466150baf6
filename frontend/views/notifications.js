// The hub's persistent notifications above every view: configuration problems first, each with
// its text as the hub wrote it and, for users who may act, a button that dismisses it.

import { onLanguageChange, t } from "../i18n.js";
import { h, replaceChildren } from "../lib/dom.js";
import { formatTime } from "../lib/format.js";

/** The id of the notification the hub raises for problems in its configuration. */
export const CONFIG_NOTIFICATION_ID = "invalid_config";
// More than this many are folded behind a button, so the live values stay in sight.
const SHOWN_FOLDED = 3;

/** True for the notification that lists the problems of the hub's configuration. */
export function isConfigProblem(notification) {
  return notification.notification_id === CONFIG_NOTIFICATION_ID;
}

/**
 * Configuration problems first, then the newest first (the hub lists the oldest first; its
 * times may tie within a millisecond, so the hub's order decides then).
 */
export function inDisplayOrder(notifications) {
  const created = (item) => Date.parse(item.created_at) || 0;
  return notifications
    .map((item, index) => ({ item, index }))
    .sort(
      (a, b) =>
        isConfigProblem(b.item) - isConfigProblem(a.item) ||
        created(b.item) - created(a.item) ||
        b.index - a.index,
    )
    .map(({ item }) => item);
}

/** True when nothing but the web server runs: the hub could not use its configuration. */
function onlyWebUiRuns(config) {
  if (config?.recovery_mode === true) return true;
  const components = config?.components || [];
  return components.length > 0 && components.every((domain) => domain === "http");
}

async function dismiss(notification, button, problem, { store, connection }) {
  const id = notification.notification_id;
  button.disabled = true;
  problem.hidden = true;
  try {
    await connection.sendMessage({
      type: "call_service",
      domain: "persistent_notification",
      service: "dismiss",
      service_data: { notification_id: id },
    });
    store.setNotifications(store.notifications.filter((item) => item.notification_id !== id));
  } catch (err) {
    button.disabled = false;
    problem.textContent = t("notifications.dismiss_failed", { detail: err.message });
    problem.hidden = false;
  }
}

function card(notification, context) {
  const { store } = context;
  const configProblem = isConfigProblem(notification);
  const problem = h("p", { class: "notification-problem", role: "alert", hidden: true });
  const button =
    store.canAct() &&
    h("button", {
      type: "button",
      class: "notification-dismiss",
      title: t("notifications.dismiss_title"),
      onclick: (event) => dismiss(notification, event.currentTarget, problem, context),
    }, t("notifications.dismiss"));
  const created = Date.parse(notification.created_at);
  const time =
    Number.isFinite(created) &&
    h(
      "time",
      { class: "notification-time", datetime: notification.created_at },
      formatTime(created / 1000, store.config?.time_zone),
    );
  const message = h("div", { class: "notification-message" }, notification.message);
  const head = (title) =>
    h("div", { class: "notification-head" }, h("h2", { class: "notification-title" }, title),
      time, button);
  if (!configProblem) {
    return h(
      "article",
      { class: "notification", dataset: { notificationId: notification.notification_id } },
      head(notification.title || t("notifications.untitled")),
      message,
      problem,
    );
  }
  const lead = onlyWebUiRuns(store.config)
    ? "notifications.config_lead_web_only"
    : "notifications.config_lead";
  return h(
    "article",
    {
      class: "notification is-config-problem",
      dataset: { notificationId: notification.notification_id },
    },
    head(t("notifications.config_title")),
    h("p", { class: "notification-lead" }, t(lead)),
    h(
      "div",
      { class: "notification-details" },
      notification.title && h("div", { class: "notification-hub-title" }, notification.title),
      message,
    ),
    problem,
  );
}

/**
 * Show the store's notifications in `container` (hidden while there are none) and keep them
 * current. Returns a teardown function.
 */
export function mountNotifications(container, context) {
  const { store } = context;
  let unfolded = false;

  const render = () => {
    const items = inDisplayOrder(store.notifications);
    const shown = unfolded ? items : items.slice(0, SHOWN_FOLDED);
    container.hidden = items.length === 0;
    container.setAttribute("aria-label", t("notifications.region"));
    const fold =
      items.length > SHOWN_FOLDED &&
      h(
        "button",
        {
          type: "button",
          class: "notifications-fold",
          "aria-expanded": String(unfolded),
          onclick: () => {
            unfolded = !unfolded;
            render();
          },
        },
        unfolded
          ? t("notifications.fewer")
          : t("notifications.more", { count: items.length - shown.length }),
      );
    replaceChildren(container, shown.map((item) => card(item, context)), fold);
  };

  const stops = [
    store.subscribe(({ structure, notifications }) => {
      if (structure || notifications) render();
    }),
    onLanguageChange(render),
  ];
  render();
  return () => {
    for (const stop of stops) stop();
    container.replaceChildren();
  };
}
