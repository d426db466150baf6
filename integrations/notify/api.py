"""The notify services (`notify.<target>`, `notify.delivery_log`) and `GET /api/notify/log`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.services import ServiceCall, ServiceField, ServiceResponse, SupportsResponse
from plantpulse.integrations.notify.const import (
    ATTR_DATA,
    ATTR_LIMIT,
    ATTR_MESSAGE,
    ATTR_STATUS,
    ATTR_TARGET,
    ATTR_TITLE,
    DEFAULT_LOG_SIZE,
    DOMAIN,
    MAX_LOG_SIZE,
    MAX_MESSAGE_LENGTH,
    REST_LOG_PATH,
    SERVICE_DELIVERY_LOG,
    DeliveryStatus,
)

if TYPE_CHECKING:
    from aiohttp import web

    from plantpulse.core.hub import Hub
    from plantpulse.integrations.notify.manager import Notifier

SEND_SCHEMA: Final = vol.Schema({
    vol.Required(ATTR_MESSAGE): vol.All(
        cv.string, vol.Length(min=1, max=MAX_MESSAGE_LENGTH,
                              msg=f"must be 1 to {MAX_MESSAGE_LENGTH} characters")
    ),
    vol.Optional(ATTR_TITLE): cv.string,
    vol.Optional(ATTR_DATA, default={}): dict,
})

SEND_FIELDS: Final = {
    ATTR_MESSAGE: ServiceField("The text to send", example="一号循环泵过载", required=True),
    ATTR_TITLE: ServiceField("A heading (SMS put it in front of the text)",
                             example="告警：一号循环泵"),
    ATTR_DATA: ServiceField(
        "attachments (file paths in the config dir), type (info, success, warning, "
        "failure), format (text, markdown, html)",
        example={"attachments": ["media/snapshots/pump_1.jpg"], "type": "warning"},
    ),
}


def _log_schema(notifier: Notifier) -> vol.Schema:
    return vol.Schema({
        vol.Optional(ATTR_TARGET): vol.In(sorted(notifier.targets),
                                          msg="not a configured notify target"),
        vol.Optional(ATTR_STATUS): vol.All(vol.Lower, vol.Coerce(DeliveryStatus)),
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LOG_SIZE): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_LOG_SIZE)
        ),
    })


def _log_response(notifier: Notifier, query: dict[str, Any]) -> dict[str, Any]:
    status = query.get(ATTR_STATUS)
    deliveries = notifier.deliveries(query.get(ATTR_TARGET),
                                     str(status) if status else None, query[ATTR_LIMIT])
    return {"deliveries": [delivery.as_dict() for delivery in deliveries]}


def async_register_api(hub: Hub, notifier: Notifier) -> None:
    """Register a service per target, the delivery log service and, with http, the REST view."""
    for name in notifier.targets:

        async def send(call: ServiceCall, name: str = name) -> ServiceResponse:
            data = call.data
            try:
                delivery = await notifier.async_send(
                    name, data[ATTR_MESSAGE], title=data.get(ATTR_TITLE),
                    data=data[ATTR_DATA], context=call.context,
                )
            except ValueError as err:
                raise ServiceValidationError(str(err)) from err
            return {"delivery_id": delivery.id}

        hub.services.async_register(
            DOMAIN, name, send, SEND_SCHEMA, SupportsResponse.OPTIONAL,
            name=f"Notify {name}",
            description=f"Send a message to {name}; returns once it is queued.",
            fields=SEND_FIELDS,
        )

    log_schema = _log_schema(notifier)

    def delivery_log(call: ServiceCall) -> ServiceResponse:
        return _log_response(notifier, dict(call.data))

    hub.services.async_register(
        DOMAIN, SERVICE_DELIVERY_LOG, delivery_log, log_schema, SupportsResponse.ONLY,
        name="Delivery log",
        description="The latest deliveries, newest first: time, attempts, result per URL, "
        "error, and the content of failed messages.",
        fields={
            ATTR_TARGET: ServiceField("Only this target", example="ops_email"),
            ATTR_STATUS: ServiceField("Only this status (queued, sending, retrying, sent, "
                                      "failed)", example="failed"),
            ATTR_LIMIT: ServiceField("How many, newest first", example=20),
        },
    )
    if "http" in hub.components:
        _register_rest(hub, notifier, log_schema)


def _register_rest(hub: Hub, notifier: Notifier, log_schema: vol.Schema) -> None:
    from plantpulse.core.config.errors import humanize_invalid
    from plantpulse.core.http.extensions import async_register_api_view
    from plantpulse.core.http.view import ApiError, json_response

    async def get_log(request: web.Request) -> web.Response:
        """The notify delivery log, newest first (target, status, limit)."""
        try:
            query = log_schema(dict(request.query))
        except vol.Invalid as err:
            raise ApiError(f"Invalid query: {humanize_invalid(err)}.") from None
        return json_response(_log_response(notifier, query))

    async_register_api_view(hub, "GET", REST_LOG_PATH, get_log)
