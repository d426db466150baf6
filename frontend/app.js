// The page shell: login or the app (header with notifications, connection, user, language and
// logout; the notifications; then views), and the session that loads config, the user,
// notifications, registries and live states over the WebSocket.

import {
  applyPreferredLanguage, onLanguageChange, otherLanguage, setLanguage, t,
} from "./i18n.js";
import { Auth } from "./lib/auth.js";
import { Connection } from "./lib/connection.js";
import { h, replaceChildren } from "./lib/dom.js";
import { registeredViews, Router } from "./lib/router.js";
import { Store } from "./lib/store.js";
import { mountLogin } from "./views/login.js";
import { isConfigProblem, mountNotifications } from "./views/notifications.js";
import "./views/states.js";
import "./views/alarms.js";

const REGISTRY_EVENTS = [
  "area_registry_updated", "device_registry_updated", "entity_registry_updated",
];
const REGISTRY_RELOAD_DELAY_MS = 500;
const NOTIFICATIONS_EVENT = "persistent_notifications_updated";
const ROLES = new Set(["admin", "operator", "viewer"]);

/** Ask for something the page can do without; an older or smaller hub may not answer it. */
async function optional(request, fallback) {
  try {
    return await request;
  } catch (err) {
    if (err.code === "connection_lost") throw err;
    console.warn("PlantPulse: optional request failed:", err.message);
    return fallback;
  }
}

function languageToggle() {
  return h(
    "button",
    {
      type: "button", class: "lang-toggle", title: t("language.toggle_title"),
      lang: otherLanguage(),
      onclick: () => setLanguage(otherLanguage(), { remember: true }),
    },
    t("language.toggle"),
  );
}

/** Loads what the views need after each (re)connection and keeps it current. */
class Session {
  constructor(connection, store, onError) {
    this.connection = connection;
    this.store = store;
    this.onError = onError;
    this._reloadTimer = null;
    connection.onReady(() => this._load().catch((err) => this._failed(err)));
  }

  async _load() {
    const send = (type) => this.connection.sendMessage({ type });
    const [config, user] = await Promise.all([
      send("get_config"),
      optional(send("auth/current_user"), null),
    ]);
    applyPreferredLanguage(user?.language, config.language);
    this.store.setUser(user);
    this.store.setConfig(config);
    await this._watchNotifications();
    await this._loadRegistries();
    let first = true;
    await this.connection.subscribeMessage({ type: "subscribe_entities" }, (event) => {
      this.store.applyEntityEvent(event, { replace: first });
      first = false;
    });
    for (const eventType of REGISTRY_EVENTS) {
      await optional(
        this.connection.subscribeMessage(
          { type: "subscribe_events", event_type: eventType },
          () => this._reloadRegistriesSoon(),
        ),
        null,
      );
    }
    this.onError(null);
  }

  stop() {
    clearTimeout(this._reloadTimer);
  }

  /** Show the hub's persistent notifications now and again after every change to them. */
  async _watchNotifications() {
    await optional(
      this.connection.subscribeMessage(
        { type: "subscribe_events", event_type: NOTIFICATIONS_EVENT },
        () => this._loadNotifications().catch((err) => this._failed(err)),
      ),
      null,
    );
    await this._loadNotifications();
  }

  async _loadNotifications() {
    const notifications = await optional(
      this.connection.sendMessage({ type: "persistent_notification/get" }),
      null,
    );
    if (notifications) this.store.setNotifications(notifications);
  }

  async _loadRegistries() {
    const send = (type) => this.connection.sendMessage({ type });
    const [areas, devices, entities] = await Promise.all([
      send("config/area_registry/list"),
      optional(send("config/device_registry/list"), []),
      send("config/entity_registry/list"),
    ]);
    this.store.setRegistries({ areas, devices, entities });
  }

  _reloadRegistriesSoon() {
    clearTimeout(this._reloadTimer);
    this._reloadTimer = setTimeout(
      () => this._loadRegistries().catch((err) => this._failed(err)),
      REGISTRY_RELOAD_DELAY_MS,
    );
  }

  _failed(err) {
    if (err.code === "connection_lost" || err.code === "not_connected") return;
    console.warn("PlantPulse: loading from the hub failed:", err);
    this.onError(err);
  }
}

/** The logged-in user's name, with the role in its tooltip. */
function userLabel(user) {
  if (!user) return null;
  const name = user.name || user.username;
  const role = ROLES.has(user.role) ? t(`role.${user.role}`) : user.role;
  return h("span", { class: "user-name", title: t("user.title", { name, role }) }, name);
}

/** The header, the error banner, the notifications and the routed views, while logged in. */
function mountShell(container, { auth, connection, store }) {
  const outlet = h("main", { id: "view", class: "view" });
  const header = h("header", { class: "topbar" });
  const banner = h("div", { class: "banner", role: "alert", hidden: true });
  const notices = h("section", { id: "notifications", class: "notifications", tabindex: -1 });
  container.append(header, banner, notices, outlet);
  let lastError = null;
  let countdown = null;

  const renderBanner = () => {
    banner.hidden = !lastError;
    banner.textContent = lastError ? t("error.generic", { detail: lastError.message }) : "";
  };

  const connectionLabel = () => {
    if (connection.status === "reconnecting") {
      const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
      return t("connection.reconnecting", { seconds });
    }
    return t(`connection.${connection.status === "stopped" ? "offline" : connection.status}`);
  };

  const renderConnection = () => {
    const indicator = header.querySelector(".connection");
    if (!indicator) return;
    indicator.dataset.status = connection.status;
    document.body.dataset.connection = connection.status;
    indicator.querySelector(".connection-label").textContent = connectionLabel();
    clearInterval(countdown);
    countdown = connection.status === "reconnecting" ? setInterval(renderConnection, 1000) : null;
  };

  let liveFrame = null;
  const renderSimulated = () => {
    const badge = header.querySelector(".sim-badge");
    const count = store.countSimulated();
    badge.hidden = count === 0;
    badge.title = t("simulated.title", { count });
  };

  // A view's `badge(store)` ({count, urgent, title}) shows on its nav entry while count > 0.
  const renderViewBadges = () => {
    for (const link of header.querySelectorAll(".views-nav a[data-view]")) {
      const view = registeredViews().find((item) => item.id === link.dataset.view);
      const badge = link.querySelector(".nav-badge");
      if (!view?.badge || !badge) continue;
      const { count, urgent, title } = view.badge(store);
      badge.hidden = !(count > 0);
      badge.textContent = String(count);
      badge.classList.toggle("is-urgent", Boolean(urgent));
      link.title = count > 0 ? title : "";
    }
  };

  const renderLive = () => {
    liveFrame = null;
    renderSimulated();
    renderViewBadges();
  };

  const renderNotices = () => {
    const badge = header.querySelector(".notice-badge");
    const count = store.notifications.length;
    badge.hidden = count === 0;
    badge.classList.toggle("is-config-problem", store.notifications.some(isConfigProblem));
    badge.title = t("notifications.badge_title", { count });
    badge.querySelector(".notice-count").textContent = String(count);
  };

  const showNotices = () => {
    notices.scrollIntoView({ behavior: "smooth", block: "start" });
    notices.focus({ preventScroll: true });
  };

  const renderHeader = () => {
    const views = registeredViews().filter((view) => view.available?.(store) ?? true);
    const configured = store.config?.name || store.config?.location_name || "";
    const siteName = configured === "PlantPulse" ? "" : configured;
    replaceChildren(
      header,
      h(
        "div",
        { class: "brand" },
        h("img", { src: "icon.svg", alt: "", width: 28, height: 28 }),
        h("span", { class: "brand-name" }, "PlantPulse"),
        siteName && h("span", { class: "site-name" }, siteName),
      ),
      views.length > 1 &&
        h(
          "nav",
          { class: "views-nav" },
          views.map((view) =>
            h(
              "a",
              {
                href: Router.href(view),
                "aria-current": router.current === view ? "page" : false,
                dataset: { view: view.id },
              },
              t(view.titleKey),
              view.badge && h("span", { class: "nav-badge", hidden: true }),
            ),
          ),
        ),
      h(
        "div",
        { class: "status" },
        h(
          "button",
          { type: "button", class: "notice-badge", hidden: true, onclick: showNotices },
          t("notifications.badge"),
          h("span", { class: "notice-count" }),
        ),
        h("span", { class: "sim-badge", hidden: true }, t("simulated.badge")),
        h(
          "span",
          { class: "connection", role: "status" },
          h("span", { class: "connection-dot" }),
          h("span", { class: "connection-label" }),
        ),
      ),
      h(
        "div",
        { class: "actions" },
        userLabel(store.user),
        languageToggle(),
        h("button", { type: "button", class: "logout", onclick: () => auth.logout() }, t("logout")),
      ),
    );
    renderConnection();
    renderSimulated();
    renderViewBadges();
    renderNotices();
    renderBanner();
  };

  const router = new Router(outlet, { store, connection, auth });
  const session = new Session(connection, store, (err) => {
    lastError = err;
    renderBanner();
  });
  const stops = [
    connection.onStatus(renderConnection),
    onLanguageChange(renderHeader),
    router.onChange(renderHeader),
    store.subscribe(({ structure, states, notifications }) => {
      if (structure) renderHeader();
      else if (notifications) renderNotices();
      else if (states.size) liveFrame ??= requestAnimationFrame(renderLive);
    }),
    mountNotifications(notices, { store, connection }),
  ];
  renderHeader();
  router.start();
  connection.start();

  return () => {
    connection.stop();
    router.stop();
    clearInterval(countdown);
    cancelAnimationFrame(liveFrame);
    session.stop();
    for (const stop of stops) stop();
    container.replaceChildren();
  };
}

function main() {
  applyPreferredLanguage();
  const root = document.getElementById("app");
  const auth = new Auth();
  let teardown = null;

  const show = (reason) => {
    teardown?.();
    if (auth.loggedIn) {
      const store = new Store();
      const connection = new Connection(auth);
      teardown = mountShell(root, { auth, connection, store });
    } else {
      const notice = reason === "expired" ? "login.expired" : null;
      teardown = mountLogin(root, { auth, languageToggle, notice });
    }
  };
  auth.onChange(show);
  show(null);
}

main();
