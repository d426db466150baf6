"""What API users may do beyond their role's routes: admin-only services and the hub's events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from plantpulse.core import const
from plantpulse.core.exceptions import ServiceNotFound, Unauthorized

if TYPE_CHECKING:
    from plantpulse.core.auth.models import User
    from plantpulse.core.hub import Hub

# Every event type the core declares, plus the `plantpulse_*` family: fired only by the hub,
# because listeners trust their data (hub objects, registry changes, the hub's lifecycle).
HUB_EVENTS: Final = frozenset(
    value for name, value in vars(const).items() if name.startswith("EVENT_")
)
HUB_EVENT_PREFIX: Final = "plantpulse_"

# Events a non-admin may subscribe to: what any logged-in user may read anyway. Others (service
# calls with other users' data, custom events) are for admins.
SUBSCRIBABLE_BY_ALL: Final = frozenset({
    const.EVENT_STATE_CHANGED,
    const.EVENT_STATE_BACKFILLED,
    const.EVENT_NOTIFICATIONS_UPDATED,
    const.EVENT_ENTITY_REGISTRY_UPDATED,
    const.EVENT_AREA_REGISTRY_UPDATED,
    const.EVENT_DEVICE_REGISTRY_UPDATED,
    const.EVENT_COMPONENT_LOADED,
    const.EVENT_SERVICE_REGISTERED,
    const.EVENT_SERVICE_REMOVED,
    const.EVENT_HUB_START,
    const.EVENT_HUB_STARTED,
    const.EVENT_HUB_STOP,
    const.EVENT_HUB_CLOSE,
})


def check_fire_event(event_type: str) -> None:
    """Raise Unauthorized for an event type only the hub may fire."""
    if event_type in HUB_EVENTS or event_type.startswith(HUB_EVENT_PREFIX):
        raise Unauthorized(f"Event type {event_type} is fired only by the hub itself; fire an "
                           "event type of your own instead.")


def check_subscribe(user: User, event_type: str) -> None:
    """Raise Unauthorized when `user` may not receive events of `event_type` (`*`: all)."""
    if user.is_admin or event_type in SUBSCRIBABLE_BY_ALL:
        return
    what = "every event" if event_type == const.MATCH_ALL else f"{event_type} events"
    raise Unauthorized(
        f"Your role ({user.role}) may not subscribe to {what}: only admins may. Subscribe to "
        f"one of {', '.join(sorted(SUBSCRIBABLE_BY_ALL))}."
    )


def check_service_call(hub: Hub, user: User, domain: str, service: str) -> None:
    """Raise Unauthorized when the service is admin-only and `user` is not an admin.

    An unknown service passes: calling it reports ServiceNotFound.
    """
    if user.is_admin:
        return
    try:
        entry = hub.services.get(domain, service)
    except ServiceNotFound:
        return
    if entry.admin_only:
        raise Unauthorized(
            f"Service {domain}.{service} is for admins only, and your role is {user.role}: ask "
            "an admin to call it or to make you an admin."
        )
