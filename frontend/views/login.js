// The login form shown until the user has a session.

import { onLanguageChange, t } from "../i18n.js";
import { h, replaceChildren } from "../lib/dom.js";

/** The message for a failed login, from the HttpError the auth client threw. */
export function loginErrorText(err) {
  if (err.status === 0) return t("login.unreachable");
  if (err.status === 429 || err.code === "banned" || err.code === "too_many_attempts") {
    return t("login.banned");
  }
  if (err.status === 400 || err.status === 401 || err.status === 403) return t("login.invalid");
  return t("login.failed", { detail: err.message });
}

/**
 * Build the login form in `container`; `notice` is an optional string key shown above it
 * (why the user is here again). Returns a teardown function.
 */
export function mountLogin(container, { auth, languageToggle, notice = null }) {
  let message = notice ? { key: notice } : null;
  let busy = false;
  const values = { username: "", password: "" };

  const render = () => {
    const username = h("input", {
      id: "login-username", name: "username", autocomplete: "username", required: true,
      autocapitalize: "none", spellcheck: "false", value: values.username,
    });
    const password = h("input", {
      id: "login-password", name: "password", type: "password", required: true,
      autocomplete: "current-password", value: values.password,
    });
    username.addEventListener("input", () => (values.username = username.value));
    password.addEventListener("input", () => (values.password = password.value));
    const text = message && (message.error ? loginErrorText(message.error) : t(message.key));
    const form = h(
      "form",
      { class: "card login-card", onsubmit: submit },
      h("h1", {}, t("login.title")),
      text && h("p", { class: "form-error", role: "alert" }, text),
      h("label", { for: "login-username" }, t("login.username")),
      username,
      h("label", { for: "login-password" }, t("login.password")),
      password,
      h(
        "button",
        { type: "submit", class: "primary", disabled: busy },
        busy ? t("login.busy") : t("login.submit"),
      ),
      h("p", { class: "hint" }, t("login.no_account")),
    );
    replaceChildren(
      container,
      h(
        "div",
        { class: "login-page" },
        h("div", { class: "login-top" }, h("span", { class: "brand" }, "PlantPulse"), languageToggle()),
        form,
      ),
    );
    (values.username ? password : username).focus();
  };

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    message = null;
    render();
    try {
      await auth.login(values.username.trim(), values.password);
    } catch (err) {
      busy = false;
      values.password = "";
      message = { error: err };
      render();
    }
  }

  const stopLanguage = onLanguageChange(render);
  render();
  return () => {
    stopLanguage();
    container.replaceChildren();
  };
}
