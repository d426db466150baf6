// First start: create the owner account with the one-time code the hub printed, then log in.

import {
  applyPreferredLanguage, getLanguage, LANGUAGES, onLanguageChange, otherLanguage, setLanguage, t,
} from "./i18n.js";
import { Auth } from "./lib/auth.js";
import { h, replaceChildren } from "./lib/dom.js";
import { clientId, getJson, postJson } from "./lib/rest.js";

const LANGUAGE_NAMES = { "zh-CN": "中文", en: "English" };

/** True when the hub says onboarding is over (HA's list of steps, or `{done: true}`). */
export function onboardingDone(answer) {
  if (Array.isArray(answer)) {
    return answer.length > 0 && answer.every((step) => step.done);
  }
  return Boolean(answer && (answer.done ?? answer.onboarded));
}

function errorText(err) {
  if (err.status === 401 || err.status === 403 || err.code === "invalid_code") {
    return t("onboarding.bad_code");
  }
  if (err.status === 0) return t("login.unreachable");
  return t("onboarding.failed", { detail: err.message });
}

function main() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code") || "";
  applyPreferredLanguage(params.get("language") || params.get("lang"));
  const root = document.getElementById("app");
  const values = { name: "", username: "", password: "", confirm: "", language: getLanguage() };
  let phase = "loading";
  let problem = null;
  let busy = false;

  const toggle = () =>
    h(
      "button",
      {
        type: "button", class: "lang-toggle", title: t("language.toggle_title"),
        onclick: () => {
          values.language = otherLanguage();
          setLanguage(values.language);
        },
      },
      t("language.toggle"),
    );

  const field = (key, label, attributes) => {
    const input = h("input", { id: `onboarding-${key}`, name: key, value: values[key], ...attributes });
    input.addEventListener("input", () => (values[key] = input.value));
    return [h("label", { for: input.id }, label), input];
  };

  const form = () => {
    const language = h(
      "select",
      {
        id: "onboarding-language", name: "language",
        onchange: (event) => {
          values.language = event.target.value;
          setLanguage(values.language);
        },
      },
      LANGUAGES.map((tag) =>
        h("option", { value: tag, selected: tag === values.language }, LANGUAGE_NAMES[tag]),
      ),
    );
    return h(
      "form",
      { class: "card onboarding-card", onsubmit: submit },
      h("h1", {}, t("onboarding.title")),
      h("p", { class: "hint" }, t("onboarding.intro")),
      problem && h("p", { class: "form-error", role: "alert" }, problem()),
      field("name", t("onboarding.name"), { autocomplete: "name", required: true }),
      field("username", t("onboarding.username"), {
        autocomplete: "username", autocapitalize: "none", spellcheck: "false", required: true,
      }),
      field("password", t("onboarding.password"), {
        type: "password", autocomplete: "new-password", required: true,
      }),
      field("confirm", t("onboarding.password_confirm"), {
        type: "password", autocomplete: "new-password", required: true,
      }),
      h("label", { for: language.id }, t("onboarding.language")),
      language,
      h(
        "button",
        { type: "submit", class: "primary", disabled: busy },
        busy ? t("onboarding.busy") : t("onboarding.submit"),
      ),
    );
  };

  const message = (text, withLink) =>
    h(
      "div",
      { class: "card onboarding-card" },
      h("h1", {}, t("onboarding.title")),
      h("p", { class: withLink ? "form-ok" : "form-error", role: "status" }, text),
      withLink && h("a", { href: "./", class: "to-login" }, t("onboarding.to_login")),
    );

  const render = () => {
    let body;
    if (phase === "loading") body = h("p", { class: "placeholder" }, "…");
    else if (phase === "done") body = message(t("onboarding.done"), true);
    else if (phase === "unreachable") body = message(problem(), false);
    else if (!code) body = message(t("onboarding.no_code"), false);
    else body = form();
    replaceChildren(
      root,
      h(
        "div",
        { class: "login-page" },
        h("div", { class: "login-top" }, h("span", { class: "brand" }, "PlantPulse"), toggle()),
        body,
      ),
    );
  };

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    if (values.password !== values.confirm) {
      problem = () => t("onboarding.mismatch");
      render();
      return;
    }
    busy = true;
    problem = null;
    render();
    const username = values.username.trim();
    let answer;
    try {
      answer = await postJson("auth/onboarding", {
        code,
        name: values.name.trim(),
        username,
        password: values.password,
        language: values.language,
        client_id: clientId(),
      });
    } catch (err) {
      busy = false;
      problem = () => errorText(err);
      phase = (await alreadyDone()) ? "done" : phase;
      render();
      return;
    }
    setLanguage(values.language, { remember: true });
    const auth = new Auth();
    try {
      if (answer?.access_token && answer.refresh_token) auth.useTokens(answer);
      else await auth.login(username, values.password);
    } catch (err) {
      console.warn("PlantPulse: the account exists but logging in failed:", err.message);
    }
    window.location.assign("./");
  }

  async function alreadyDone() {
    try {
      return onboardingDone(await getJson("auth/onboarding"));
    } catch {
      return false;
    }
  }

  onLanguageChange(render);
  render();
  getJson("auth/onboarding").then(
    (answer) => {
      phase = onboardingDone(answer) ? "done" : "form";
      render();
    },
    (err) => {
      phase = "unreachable";
      problem = () => (err.status === 0 ? t("login.unreachable") : errorText(err));
      render();
    },
  );
}

main();
