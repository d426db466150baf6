// How values and times read on screen: numbers to a sensible precision, states translated.

import { getLanguage, t } from "../i18n.js";

const NUMBER = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;
const MAX_KEPT_DECIMALS = 3;
const SIGNIFICANT_DIGITS = 4;
// States the page words itself: on/off for every domain, and some domains' own words
// ("active" is an alarm going off but a timer running).
const TRANSLATED_STATES = new Set(["on", "off"]);
const DOMAIN_STATES = {
  alarm: new Set(["active", "acknowledged"]),
  timer: new Set(["active", "idle", "paused"]),
};

/** Decimal places to show for a numeric state string. */
export function displayPrecision(text, attributes = {}) {
  const given = attributes.display_precision ?? attributes.suggested_display_precision;
  if (Number.isInteger(given) && given >= 0 && given <= 10) return given;
  const decimals = (text.split(".")[1] || "").replace(/e.*/i, "").length;
  if (decimals <= MAX_KEPT_DECIMALS && !/e/i.test(text)) return decimals;
  // A long float tail: keep about four significant digits, never rounding off whole units.
  const value = Math.abs(Number(text));
  if (value === 0) return 0;
  const wholeDigits = Math.floor(Math.log10(value)) + 1;
  return Math.min(10, Math.max(0, SIGNIFICANT_DIGITS - wholeDigits));
}

/**
 * What to show for a state: `{kind, text, unit}` where kind is "number", "text",
 * "unavailable" or "unknown". The unit comes from `unit_of_measurement`.
 */
export function formatState(state) {
  if (!state || state.state === "unavailable") {
    return { kind: "unavailable", text: t("state.unavailable"), unit: "" };
  }
  if (state.state === "unknown" || state.state === null || state.state === "") {
    return { kind: "unknown", text: t("state.unknown"), unit: "" };
  }
  const unit = state.attributes.unit_of_measurement || "";
  const text = String(state.state);
  if (NUMBER.test(text)) {
    const digits = displayPrecision(text, state.attributes);
    const formatter = new Intl.NumberFormat(getLanguage(), {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    return { kind: "number", text: formatter.format(Number(text)), unit };
  }
  if (TRANSLATED_STATES.has(text)) return { kind: "text", text: t(`state.${text}`), unit };
  const domain = String(state.entity_id || "").split(".")[0];
  if (DOMAIN_STATES[domain]?.has(text)) {
    return { kind: "text", text: t(`state.${domain}.${text}`), unit };
  }
  return { kind: "text", text, unit };
}

/**
 * A time (Unix seconds) in the site's time zone: "14:03:12" today, "5月2日 14:03" before.
 */
export function formatTime(seconds, timeZone) {
  if (typeof seconds !== "number") return "";
  const date = new Date(seconds * 1000);
  const zone = validZone(timeZone);
  const day = (value) =>
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, dateStyle: "short" }).format(value);
  const sameDay = day(date) === day(new Date());
  const options = sameDay
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }
    : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  return new Intl.DateTimeFormat(getLanguage(), { ...options, timeZone: zone }).format(date);
}

function validZone(timeZone) {
  if (!timeZone) return undefined;
  try {
    new Intl.DateTimeFormat("en", { timeZone });
    return timeZone;
  } catch {
    return undefined;
  }
}
