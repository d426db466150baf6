"""Persistent notifications: messages for the people running the hub (config errors, failed
integrations, storage problems), listed by the API until dismissed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from plantpulse.core import dt
from plantpulse.core.config import validation as cv
from plantpulse.core.const import EVENT_NOTIFICATIONS_UPDATED
from plantpulse.core.events import new_ulid
from plantpulse.core.services import ServiceCall, ServiceField

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN = "persistent_notification"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message shown until somebody dismisses it."""

    notification_id: str
    title: str | None
    message: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the API."""
        return asdict(self)


class Notifications:
    """The hub's notification list, with services `persistent_notification.create/dismiss`."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._items: dict[str, Notification] = {}
        hub.services.async_register(
            DOMAIN, "create", self._create_service,
            vol.Schema({
                vol.Required("message"): cv.string,
                vol.Optional("title"): cv.string,
                vol.Optional("notification_id"): cv.string,
            }),
            description="Show a message in the UI until dismissed.",
            fields={
                "message": ServiceField("The text to show", example="Line 3 stopped",
                                        required=True),
                "title": ServiceField("A heading", example="Production"),
                "notification_id": ServiceField(
                    "Replaces an earlier notification with the same id", example="line3"
                ),
            },
        )
        hub.services.async_register(
            DOMAIN, "dismiss", self._dismiss_service,
            vol.Schema({vol.Required("notification_id"): cv.string}),
            description="Remove a message.",
            fields={"notification_id": ServiceField("Which notification", example="line3",
                                                    required=True)},
        )

    def async_create(
        self, message: str, title: str | None = None, notification_id: str | None = None
    ) -> str:
        """Add or replace a notification; returns its id."""
        notification_id = notification_id or new_ulid()
        self._items[notification_id] = Notification(
            notification_id, title, message, dt.utcnow().isoformat()
        )
        self._hub.bus.async_fire(
            EVENT_NOTIFICATIONS_UPDATED, {"action": "create", "notification_id": notification_id}
        )
        return notification_id

    def async_dismiss(self, notification_id: str) -> bool:
        """Remove a notification; False if there was none."""
        if self._items.pop(notification_id, None) is None:
            return False
        self._hub.bus.async_fire(
            EVENT_NOTIFICATIONS_UPDATED, {"action": "dismiss", "notification_id": notification_id}
        )
        return True

    def all(self) -> list[Notification]:
        """Every current notification, oldest first."""
        return list(self._items.values())

    def _create_service(self, call: ServiceCall) -> None:
        data = call.data
        self.async_create(data["message"], data.get("title"), data.get("notification_id"))

    def _dismiss_service(self, call: ServiceCall) -> None:
        self.async_dismiss(call.data["notification_id"])
