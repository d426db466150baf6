// Interface strings in Chinese (the default) and English, and the current language.

export const LANGUAGES = ["zh-CN", "en"];
export const DEFAULT_LANGUAGE = "zh-CN";

const CHOICE_KEY = "plantpulse.language";

const STRINGS = {
  "zh-CN": {
    "app.title": "PlantPulse 工厂监控",
    "language.toggle": "EN",
    "language.toggle_title": "Switch to English",
    "language.name": "中文",
    "login.title": "登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.invalid": "用户名或密码错误。",
    "login.banned": "登录失败次数过多，请稍后再试。",
    "login.unreachable": "无法连接到服务器，请检查网络后重试。",
    "login.expired": "登录已过期，请重新登录。",
    "login.failed": "登录失败：{detail}",
    "login.no_account": "还没有账号？首次启动时，请打开服务器输出的初始化链接。",
    "logout": "退出登录",
    "nav.states": "实时数据",
    "nav.alarms": "告警",
    "alarms.loading": "正在加载告警…",
    "alarms.empty": "当前没有告警。",
    "alarms.not_set_up": "这台 PlantPulse 没有启用告警：在 configuration.yaml 中加入 alarm: 并重启。",
    "alarms.summary": "{count} 条告警，{unacknowledged} 条未确认",
    "alarms.badge_title": "{count} 条告警，{unacknowledged} 条未确认",
    "alarms.viewer_hint": "只读用户可以查看告警，确认和清除需要操作员或管理员。",
    "alarms.severity.critical": "严重",
    "alarms.severity.major": "主要",
    "alarms.severity.minor": "次要",
    "alarms.severity.warning": "警告",
    "alarms.source": "来源",
    "alarms.raised": "发生时间",
    "alarms.count": "次数",
    "alarms.last": "最近 {time}",
    "alarms.acknowledged_by": "确认人",
    "alarms.note": "备注",
    "alarms.system": "系统",
    "alarms.flapping": "频繁变化",
    "alarms.flapping_title": "这条告警反复出现又消失，暂停发送通知",
    "alarms.note_placeholder": "确认备注（可选）",
    "alarms.acknowledge": "确认",
    "alarms.acknowledge_title": "已知晓并在处理：记录确认人，停止升级通知",
    "alarms.clear": "清除",
    "alarms.clear_title": "告警条件已消除：结束这条告警",
    "alarms.failed": "操作失败：{detail}",
    "connection.connecting": "正在连接…",
    "connection.connected": "已连接",
    "connection.reconnecting": "连接中断，{seconds} 秒后重连",
    "connection.offline": "未连接",
    "simulated.badge": "模拟数据",
    "simulated.title": "{count} 个实体显示的是模拟数值，并非真实测量。",
    "simulated.row": "模拟",
    "states.loading": "正在加载实体…",
    "states.empty": "还没有任何实体。",
    "states.empty_hint":
      "在 configuration.yaml 中配置集成（例如模拟工厂 demo:）并重启 PlantPulse 后，数据会显示在这里。",
    "states.empty_config": "还没有任何实体：配置有问题，请看上方的说明。",
    "states.empty_notifications": "还没有任何实体。上方的通知可能说明了原因。",
    "states.other_area": "其他",
    "states.count": "{count} 个",
    "states.updated": "更新于 {time}",
    "state.unavailable": "不可用",
    "state.unknown": "未知",
    "state.on": "开",
    "state.off": "关",
    "state.alarm.active": "告警中",
    "state.alarm.acknowledged": "已确认",
    "state.timer.active": "计时中",
    "state.timer.idle": "空闲",
    "state.timer.paused": "已暂停",
    "error.generic": "出错了：{detail}",
    "user.title": "{name}，{role}",
    "role.admin": "管理员",
    "role.operator": "操作员",
    "role.viewer": "只读用户",
    "notifications.badge": "通知",
    "notifications.badge_title": "{count} 条通知，点击查看",
    "notifications.region": "通知",
    "notifications.untitled": "通知",
    "notifications.dismiss": "知道了",
    "notifications.dismiss_title": "从通知列表中移除（所有用户都不再看到）",
    "notifications.dismiss_failed": "无法移除这条通知：{detail}",
    "notifications.more": "另外还有 {count} 条通知",
    "notifications.fewer": "收起",
    "notifications.config_title": "配置有问题",
    "notifications.config_lead":
      "有问题的设置已改用默认值或被跳过，PlantPulse 的其余部分照常运行。"
      + "修正下面列出的问题后重启 PlantPulse 即可生效。",
    "notifications.config_lead_web_only":
      "PlantPulse 无法使用这份配置，目前只运行了网页界面，没有采集或记录任何数据。"
      + "修正下面列出的问题后重启 PlantPulse。",
    "onboarding.title": "初始化 PlantPulse",
    "onboarding.intro": "创建所有者账号。此链接只能使用一次。",
    "onboarding.name": "姓名",
    "onboarding.username": "用户名",
    "onboarding.password": "密码",
    "onboarding.password_confirm": "再次输入密码",
    "onboarding.language": "界面语言",
    "onboarding.submit": "创建账号",
    "onboarding.busy": "正在创建…",
    "onboarding.mismatch": "两次输入的密码不一致。",
    "onboarding.done": "初始化已经完成。",
    "onboarding.to_login": "前往登录",
    "onboarding.no_code":
      "链接中缺少初始化代码。请打开 PlantPulse 首次启动时在服务器输出中打印的链接。",
    "onboarding.bad_code": "初始化代码无效或已被使用。请使用服务器最新打印的链接。",
    "onboarding.failed": "创建账号失败：{detail}",
  },
  en: {
    "app.title": "PlantPulse plant monitoring",
    "language.toggle": "中文",
    "language.toggle_title": "切换到中文",
    "language.name": "English",
    "login.title": "Log in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.busy": "Logging in…",
    "login.invalid": "Wrong username or password.",
    "login.banned": "Too many failed attempts. Try again later.",
    "login.unreachable": "Cannot reach the server. Check the network and try again.",
    "login.expired": "Your session has expired. Please log in again.",
    "login.failed": "Login failed: {detail}",
    "login.no_account":
      "No account yet? On the first start, open the onboarding link the hub printed.",
    "logout": "Log out",
    "nav.states": "Live values",
    "nav.alarms": "Alarms",
    "alarms.loading": "Loading alarms…",
    "alarms.empty": "No active alarms.",
    "alarms.not_set_up":
      "Alarms are not enabled on this PlantPulse: add alarm: to configuration.yaml and restart.",
    "alarms.summary": "{count} active, {unacknowledged} unacknowledged",
    "alarms.badge_title": "{count} active alarms, {unacknowledged} unacknowledged",
    "alarms.viewer_hint":
      "Viewers see the alarms; acknowledging and clearing need an operator or an admin.",
    "alarms.severity.critical": "Critical",
    "alarms.severity.major": "Major",
    "alarms.severity.minor": "Minor",
    "alarms.severity.warning": "Warning",
    "alarms.source": "Source",
    "alarms.raised": "Raised",
    "alarms.count": "Count",
    "alarms.last": "last {time}",
    "alarms.acknowledged_by": "Acknowledged by",
    "alarms.note": "Note",
    "alarms.system": "system",
    "alarms.flapping": "Flapping",
    "alarms.flapping_title": "Raised and cleared again and again: its notifications are held back",
    "alarms.note_placeholder": "Note (optional)",
    "alarms.acknowledge": "Acknowledge",
    "alarms.acknowledge_title": "Somebody is on it: records who, stops the escalation",
    "alarms.clear": "Clear",
    "alarms.clear_title": "The condition is gone: end this alarm",
    "alarms.failed": "That did not work: {detail}",
    "connection.connecting": "Connecting…",
    "connection.connected": "Connected",
    "connection.reconnecting": "Connection lost, retrying in {seconds} s",
    "connection.offline": "Not connected",
    "simulated.badge": "Simulated data",
    "simulated.title": "{count} entities show simulated values, not real measurements.",
    "simulated.row": "SIM",
    "states.loading": "Loading entities…",
    "states.empty": "No entities yet.",
    "states.empty_hint":
      "Configure an integration in configuration.yaml (such as the demo plant, demo:) and "
      + "restart PlantPulse; its values appear here.",
    "states.empty_config": "No entities yet: the configuration has problems, see above.",
    "states.empty_notifications": "No entities yet. The notifications above may say why.",
    "states.other_area": "Other",
    "states.count": "{count}",
    "states.updated": "updated {time}",
    "state.unavailable": "Unavailable",
    "state.unknown": "Unknown",
    "state.on": "On",
    "state.off": "Off",
    "state.alarm.active": "Active",
    "state.alarm.acknowledged": "Acknowledged",
    "state.timer.active": "Running",
    "state.timer.idle": "Idle",
    "state.timer.paused": "Paused",
    "error.generic": "Something went wrong: {detail}",
    "user.title": "{name}, {role}",
    "role.admin": "administrator",
    "role.operator": "operator",
    "role.viewer": "viewer (read only)",
    "notifications.badge": "Notifications",
    "notifications.badge_title": "{count} notifications: show them",
    "notifications.region": "Notifications",
    "notifications.untitled": "Notification",
    "notifications.dismiss": "Dismiss",
    "notifications.dismiss_title": "Remove from the notifications (for every user)",
    "notifications.dismiss_failed": "Could not dismiss this notification: {detail}",
    "notifications.more": "{count} more notifications",
    "notifications.fewer": "Show fewer",
    "notifications.config_title": "The configuration has problems",
    "notifications.config_lead":
      "The settings with problems use their defaults or were skipped; the rest of PlantPulse "
      + "runs. Fix the problems listed below and restart PlantPulse to apply the fix.",
    "notifications.config_lead_web_only":
      "PlantPulse cannot use this configuration: only the web interface runs, nothing is "
      + "collected or recorded. Fix the problems listed below and restart PlantPulse.",
    "onboarding.title": "Set up PlantPulse",
    "onboarding.intro": "Create the owner account. This link works only once.",
    "onboarding.name": "Name",
    "onboarding.username": "Username",
    "onboarding.password": "Password",
    "onboarding.password_confirm": "Password again",
    "onboarding.language": "Language",
    "onboarding.submit": "Create account",
    "onboarding.busy": "Creating…",
    "onboarding.mismatch": "The two passwords differ.",
    "onboarding.done": "Onboarding is already done.",
    "onboarding.to_login": "Go to the login page",
    "onboarding.no_code":
      "The link has no onboarding code. Open the link PlantPulse printed when it first started.",
    "onboarding.bad_code":
      "The onboarding code is wrong or was already used. Use the link the hub printed last.",
    "onboarding.failed": "Could not create the account: {detail}",
  },
};

let current = DEFAULT_LANGUAGE;
const listeners = new Set();

/** Normalise a language tag to one we have strings for ("zh", "zh_CN" -> "zh-CN"). */
export function normalizeLanguage(tag) {
  const text = String(tag || "").toLowerCase().replace("_", "-");
  if (text.startsWith("zh")) return "zh-CN";
  if (text.startsWith("en")) return "en";
  return null;
}

/** The language the user picked with the toggle on this device, if any. */
export function chosenLanguage() {
  try {
    return normalizeLanguage(localStorage.getItem(CHOICE_KEY));
  } catch {
    return null;
  }
}

/**
 * Use the language picked with the toggle on this device if any, else the first usable of
 * `fallbacks` (the user's language, then the site's), else Chinese.
 */
export function applyPreferredLanguage(...fallbacks) {
  const usable = fallbacks.map(normalizeLanguage).find(Boolean);
  setLanguage(chosenLanguage() || usable || DEFAULT_LANGUAGE);
}

/** Switch language now; `remember` keeps it as this device's choice over the site's. */
export function setLanguage(language, { remember = false } = {}) {
  const next = normalizeLanguage(language) || DEFAULT_LANGUAGE;
  if (remember) {
    try {
      localStorage.setItem(CHOICE_KEY, next);
    } catch {
      // Private browsing may refuse storage; the switch still applies to this page.
    }
  }
  const changed = next !== current;
  current = next;
  document.documentElement.lang = next;
  document.title = t(document.body?.dataset.titleKey || "app.title");
  if (changed) for (const listener of listeners) listener(next);
}

export function getLanguage() {
  return current;
}

/** The other language, for the zh/EN toggle. */
export function otherLanguage() {
  return current === "en" ? "zh-CN" : "en";
}

/** Call `listener(language)` after every switch; returns a function that stops it. */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The string for `key` in the current language, with `{name}` placeholders filled. */
export function t(key, params = {}) {
  const text = STRINGS[current][key] ?? STRINGS[DEFAULT_LANGUAGE][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}
