"""Notifications: named targets of apprise URLs, sent in the background with retries and a log.

    notify:
      - name: ops_email
        urls: ["mailtos://alerts:PASSWORD@smtp.exmail.qq.com?to=ops@plant.cn"]
      - name: ops_sms
        urls: ["aliyunsms://AccessKeyId:AccessKeySecret@宁夏示范工厂/SMS_123456789/13800000000"]
        retry_delays: ["00:00:10", "00:01:00", "00:05:00"]   # the default
        log_size: 50                                          # the default

Each target is a service `notify.<name>` with `message`, `title` and `data`: `attachments`
(file paths, relative to the config dir, such as alarm snapshots; only files inside the config
dir are sent), `type` (info, success, warning, failure) and `format` (text, markdown, html).
The call returns as soon as the message is queued (with `return_response`: its
`delivery_id`); sending runs in the executor, so neither the loop nor the calling automation
waits for a slow mail server. Integrations use `await hub.data["notify"].async_send(name,
message, title=..., data=...)`.

Messages to one target go out one at a time, in the order they were queued. A message a URL
does not accept is retried after each of `retry_delays` (hub clock), to the
URLs that did not take it only. After the last retry it is marked `failed` in the delivery
log with its whole content, and a `warning` alarm `notify_failed_<name>` is raised (a
persistent notification without the alarm integration); the target's next delivered
message clears that alarm. The log keeps the last `log_size` deliveries per target in
`.storage/notify.delivery_log` (time, attempts, result per URL, error): the service
`notify.delivery_log` (target, status, limit) answers with it, as does
`GET /api/notify/log?target=&status=&limit=` when http is set up. Messages queued or waiting
for a retry when the hub stops are sent after the next start.

URL forms for Chinese plants (apprise's own, except Aliyun SMS, written here):
- E-mail: `mailtos://user:password@smtp.example.com?to=a@x.cn,b@x.cn` (TLS);
  `mailto://user:password@10.0.0.5:25?from=hub@plant.cn&to=ops@plant.cn&mode=insecure`
  for a plant's own relay without TLS (`mode=ssl` for port 465).
- SMS (Aliyun): `aliyunsms://AccessKeyId:AccessKeySecret@SignName/TemplateCode/138...`
  with `?region=cn-hangzhou`, `?param=message` (the template variable) — see aliyun_sms.py.
- WeCom group robot (企业微信群机器人): `wecombot://KEY` (KEY from the webhook address
  `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY`); WeCom application messages:
  `wechat://CorpID:AppSecret@AgentID/@user1/@user2`.
- DingTalk robot (钉钉): `dingtalk://ACCESS_TOKEN/` or, with a signing secret,
  `dingtalk://SECRET@ACCESS_TOKEN/`; phone numbers after it are @-mentioned.
- Feishu robot (飞书): `feishu://TOKEN` (TOKEN from
  `https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN`); Lark: `lark://TOKEN`.
- Any web hook: `json://host:port/path` (`jsons://` for HTTPS) posts
  `{version, title, message, attachments, type}`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.hub import StopStage
from plantpulse.integrations.notify.api import async_register_api
from plantpulse.integrations.notify.const import (
    CONF_LOG_SIZE,
    CONF_NAME,
    CONF_RETRY_DELAYS,
    CONF_URLS,
    DEFAULT_LOG_SIZE,
    DEFAULT_RETRY_DELAYS,
    DOMAIN,
    MAX_LOG_SIZE,
    RESERVED_NAMES,
)
from plantpulse.integrations.notify.manager import Notifier, Target
from plantpulse.integrations.notify.sender import check_url

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


def apprise_url(value: Any) -> str:
    """A URL apprise can send to (checked now, so a typo is reported with its line)."""
    url = cv.string(value).strip()
    problem = check_url(url)
    if problem is not None:
        raise vol.Invalid(problem)
    return url


def _target_name(value: Any) -> str:
    name = cv.slug(value)
    if name in RESERVED_NAMES:
        raise vol.Invalid(f"'{name}' is the name of a notify service; choose another name")
    return name


def _unique_names(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    for index, target in enumerate(targets):
        name = target[CONF_NAME]
        if name in seen:
            raise vol.Invalid(
                f"duplicate target name '{name}' (item {seen[name] + 1} has it already)",
                path=[index, CONF_NAME],
            )
        seen[name] = index
    return targets


TARGET_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_NAME): _target_name,
    vol.Required(CONF_URLS): vol.All(
        cv.ensure_list, vol.Length(min=1, msg="give at least one URL"), [apprise_url]
    ),
    vol.Optional(CONF_RETRY_DELAYS, default=list(DEFAULT_RETRY_DELAYS)): vol.All(
        cv.ensure_list, [cv.positive_time_period]
    ),
    vol.Optional(CONF_LOG_SIZE, default=DEFAULT_LOG_SIZE): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=MAX_LOG_SIZE)
    ),
})

CONFIG_SCHEMA: Final = vol.All(cv.ensure_list, [TARGET_SCHEMA], _unique_names)


async def async_setup(hub: Hub, config: list[dict[str, Any]]) -> bool:
    """Create the targets' services, load the delivery log and resume unfinished sends."""
    targets = {
        item[CONF_NAME]: Target(item[CONF_NAME], tuple(item[CONF_URLS]),
                                tuple(item[CONF_RETRY_DELAYS]), item[CONF_LOG_SIZE])
        for item in config
    }
    notifier = Notifier(hub, targets)
    await notifier.async_load()
    hub.data[DOMAIN] = notifier
    async_register_api(hub, notifier)
    hub.async_on_stop(notifier.async_stop, StopStage.INTEGRATIONS)
    _LOGGER.debug("Notify targets: %s", ", ".join(targets) or "none")
    return True
