"""What people read about an alarm, in zh-CN and English: severity names, notification texts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

from plantpulse.core.dt import from_timestamp
from plantpulse.integrations.alarm.const import Severity
from plantpulse.integrations.alarm.models import Alarm

SEVERITY_NAMES: Final = {
    "zh-CN": {Severity.CRITICAL: "严重", Severity.MAJOR: "主要", Severity.MINOR: "次要",
              Severity.WARNING: "警告"},
    "en": {Severity.CRITICAL: "Critical", Severity.MAJOR: "Major", Severity.MINOR: "Minor",
           Severity.WARNING: "Warning"},
}
ACTIVE_ALARMS_NAME: Final = {"zh-CN": "当前告警", "en": "Active alarms"}


class Reason(StrEnum):
    """Why a notification about an alarm is sent."""

    RAISED = "raised"
    ESCALATED = "escalated"
    CLEARED = "cleared"
    FLAPPING_ENDED = "flapping_ended"


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification about an alarm: what the message says and why it is sent."""

    reason: Reason
    waited: timedelta | None = None  # escalations: how long nobody acknowledged
    changes: int = 0  # flapping ended: how often the key changed


_TITLES: Final = {
    "zh-CN": {Reason.RAISED: "【{severity}告警】{message}",
              Reason.ESCALATED: "【升级·{severity}告警】{message}（{waited}未确认）",
              Reason.CLEARED: "【已恢复】{message}",
              Reason.FLAPPING_ENDED: "【{severity}告警】{message}（频繁变化已停止）"},
    "en": {Reason.RAISED: "[{severity}] {message}",
           Reason.ESCALATED: "[ESCALATED {severity}] {message} (unacknowledged for {waited})",
           Reason.CLEARED: "[CLEARED] {message}",
           Reason.FLAPPING_ENDED: "[{severity}] {message} (no longer flapping)"},
}
_LABELS: Final = {
    "zh-CN": {"message": "告警", "severity": "级别", "source": "来源", "raised": "发生时间",
              "count": "次数", "acknowledged": "确认", "cleared": "恢复时间", "key": "标识",
              "by": "由", "waited": "已 {waited}无人确认，现通知更多人员。",
              "flapping": "此告警在稳定下来之前变化了 {changes} 次，期间的通知已暂停。"},
    "en": {"message": "Alarm", "severity": "Severity", "source": "Source", "raised": "Raised",
           "count": "Times raised", "acknowledged": "Acknowledged", "cleared": "Cleared",
           "key": "Key", "by": "by", "waited": "Nobody acknowledged it for {waited}; more "
           "people are notified now.",
           "flapping": "This alarm changed {changes} times before it settled; notifications "
           "were paused meanwhile."},
}


def severity_name(severity: Severity, language: str) -> str:
    """The severity in `language`."""
    return SEVERITY_NAMES[_language(language)][severity]


def notification(
    alarm: Alarm, notice: Notice, language: str, tz: ZoneInfo, source_name: str | None
) -> tuple[str, str]:
    """Title and body of a notification about `alarm`, in `language`, times in `tz`."""
    language = _language(language)
    labels = _LABELS[language]
    severity = severity_name(alarm.severity, language)
    waited = _duration(notice.waited, language) if notice.waited else ""
    title = _TITLES[language][notice.reason].format(
        severity=severity if language == "zh-CN" else severity.upper(),
        message=alarm.message(language), waited=waited,
    )
    separator = "：" if language == "zh-CN" else ": "
    lines = [f"{labels['message']}{separator}{alarm.message(language)}",
             f"{labels['severity']}{separator}{severity}"]
    if alarm.source:
        source = f"{source_name} ({alarm.source})" if source_name else alarm.source
        lines.append(f"{labels['source']}{separator}{source}")
    lines.append(f"{labels['raised']}{separator}{_local(alarm.raised_at, tz)}")
    if alarm.count > 1:
        lines.append(f"{labels['count']}{separator}{alarm.count}")
    if alarm.acknowledged_at is not None:
        lines.append(f"{labels['acknowledged']}{separator}{_local(alarm.acknowledged_at, tz)} "
                     f"{labels['by']} {alarm.acknowledged_by}")
    if alarm.cleared_at is not None:
        lines.append(f"{labels['cleared']}{separator}{_local(alarm.cleared_at, tz)}")
    lines.append(f"{labels['key']}{separator}{alarm.key}")
    if notice.reason is Reason.ESCALATED:
        lines.append(labels["waited"].format(waited=waited))
    elif notice.reason is Reason.FLAPPING_ENDED:
        lines.append(labels["flapping"].format(changes=notice.changes))
    return title, "\n".join(lines)


def _language(language: str) -> str:
    return language if language in SEVERITY_NAMES else "en"


def _local(timestamp: float, tz: ZoneInfo) -> str:
    return from_timestamp(timestamp).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _duration(period: timedelta, language: str) -> str:
    """`1 小时 30 分钟` / `1 h 30 min`; seconds only when the period has them."""
    total = int(period.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    units = (("小时", "分钟", "秒") if language == "zh-CN" else ("h", "min", "s"))
    parts = [f"{value} {unit}" for value, unit in zip((hours, minutes, seconds), units,
                                                       strict=True) if value]
    return " ".join(parts) or f"0 {units[2]}"
