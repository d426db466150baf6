"""Constants of the notify integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

DOMAIN: Final = "notify"

CONF_NAME: Final = "name"
CONF_URLS: Final = "urls"
CONF_RETRY_DELAYS: Final = "retry_delays"
CONF_LOG_SIZE: Final = "log_size"

ATTR_MESSAGE: Final = "message"
ATTR_TITLE: Final = "title"
ATTR_DATA: Final = "data"
ATTR_ATTACHMENTS: Final = "attachments"
ATTR_TYPE: Final = "type"
ATTR_FORMAT: Final = "format"
ATTR_TARGET: Final = "target"
ATTR_LIMIT: Final = "limit"
ATTR_STATUS: Final = "status"

SERVICE_DELIVERY_LOG: Final = "delivery_log"
# Service names a target may not take.
RESERVED_NAMES: Final = frozenset({SERVICE_DELIVERY_LOG})

# First attempt at once, then these retries: 10 s, 1 min, 5 min.
DEFAULT_RETRY_DELAYS: Final = (
    timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5),
)
DEFAULT_LOG_SIZE: Final = 50
MAX_LOG_SIZE: Final = 1_000
# Sends running at once (each blocks an executor thread; the hub has four).
MAX_CONCURRENT_SENDS: Final = 2
# A message longer than this is refused by the service (apprise splits or cuts per service).
MAX_MESSAGE_LENGTH: Final = 32_768

STORAGE_KEY: Final = "notify.delivery_log"
STORAGE_VERSION: Final = 1

REST_LOG_PATH: Final = "/api/notify/log"

# The alarm a target raises when a message could not be delivered after its last retry.
FAILURE_ALARM_KEY: Final = "notify_failed_{target}"
FAILURE_ALARM_SEVERITY: Final = "warning"
# How much of the failed message the alarm repeats (the delivery log keeps all of it).
FAILURE_EXCERPT_CHARS: Final = 200


class DeliveryStatus(StrEnum):
    """Where a message is in its delivery."""

    QUEUED = "queued"
    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"


UNFINISHED: Final = frozenset({DeliveryStatus.QUEUED, DeliveryStatus.SENDING,
                               DeliveryStatus.RETRYING})


class NotifyType(StrEnum):
    """What kind of message it is (services show it as colour or icon)."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


class BodyFormat(StrEnum):
    """How the message text is written."""

    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"
