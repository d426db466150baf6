"""The service registry: named actions `<domain>.<service>` with schemas and optional responses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.const import (
    EVENT_CALL_SERVICE,
    EVENT_SERVICE_REGISTERED,
    EVENT_SERVICE_REMOVED,
)
from plantpulse.core.events import Context
from plantpulse.core.exceptions import ServiceNotFound, ServiceValidationError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

ServiceResponse = dict[str, Any] | None
ServiceHandler = Callable[["ServiceCall"], Awaitable[ServiceResponse] | ServiceResponse]


class SupportsResponse(StrEnum):
    """Whether a service returns data."""

    NONE = "none"
    OPTIONAL = "optional"
    ONLY = "only"


@dataclass(frozen=True, slots=True)
class ServiceField:
    """One documented field of a service, as shown by `GET /api/services`."""

    description: str
    example: Any = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class Service:
    """A registered service."""

    handler: ServiceHandler
    schema: vol.Schema | None
    supports_response: SupportsResponse
    name: str = ""
    description: str = ""
    fields: Mapping[str, ServiceField] = field(default_factory=dict)
    admin_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Describe the service in Home Assistant's `/api/services` shape."""
        return {
            "name": self.name,
            "description": self.description,
            "fields": {
                name: {
                    "description": spec.description,
                    "example": spec.example,
                    "required": spec.required,
                }
                for name, spec in self.fields.items()
            },
            "response": {"optional": self.supports_response is SupportsResponse.OPTIONAL}
            if self.supports_response is not SupportsResponse.NONE
            else None,
            "admin_only": self.admin_only,
        }


class ServiceCall:
    """A call of a service: validated data, the caller's context, whether a response is wanted."""

    __slots__ = ("context", "data", "domain", "return_response", "service")

    def __init__(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any],
        context: Context,
        return_response: bool = False,
    ) -> None:
        self.domain = domain
        self.service = service
        self.data = data
        self.context = context
        self.return_response = return_response

    def __repr__(self) -> str:
        return f"<ServiceCall {self.domain}.{self.service}: {dict(self.data)}>"


class ServiceRegistry:
    """Registers services and calls them with validated data."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._services: dict[str, dict[str, Service]] = {}

    def async_register(
        self,
        domain: str,
        service: str,
        handler: ServiceHandler,
        schema: vol.Schema | None = None,
        supports_response: SupportsResponse = SupportsResponse.NONE,
        name: str = "",
        description: str = "",
        fields: Mapping[str, ServiceField] | None = None,
        admin_only: bool = False,
    ) -> None:
        """Register `domain.service`; a later registration replaces an earlier one.

        `admin_only` services (deleting data, changing users) are refused to non-admin API
        users by the HTTP layer; automations and integrations call them freely.
        """
        domain, service = domain.lower(), service.lower()
        self._services.setdefault(domain, {})[service] = Service(
            handler, schema, supports_response, name or service.replace("_", " ").capitalize(),
            description, fields or {}, admin_only,
        )
        self._hub.bus.async_fire(EVENT_SERVICE_REGISTERED, {"domain": domain, "service": service})

    def async_remove(self, domain: str, service: str) -> None:
        """Remove a service if it exists."""
        services = self._services.get(domain, {})
        if services.pop(service, None) is None:
            return
        if not services:
            self._services.pop(domain, None)
        self._hub.bus.async_fire(EVENT_SERVICE_REMOVED, {"domain": domain, "service": service})

    def get(self, domain: str, service: str) -> Service:
        """Return the registered service or raise ServiceNotFound."""
        try:
            return self._services[domain.lower()][service.lower()]
        except KeyError:
            raise ServiceNotFound(domain, service) from None

    def async_services(self) -> dict[str, dict[str, Service]]:
        """Return every registered service by domain."""
        return {domain: dict(services) for domain, services in self._services.items()}

    async def async_call(
        self,
        domain: str,
        service: str,
        data: Mapping[str, Any] | None = None,
        *,
        context: Context | None = None,
        return_response: bool = False,
    ) -> ServiceResponse:
        """Validate `data` against the service's schema, run it and return its response.

        Raises ServiceNotFound, or ServiceValidationError with a message naming the bad field.
        """
        entry = self.get(domain, service)
        if return_response and entry.supports_response is SupportsResponse.NONE:
            raise ServiceValidationError(f"Service {domain}.{service} does not return a response")
        if not return_response and entry.supports_response is SupportsResponse.ONLY:
            raise ServiceValidationError(
                f"Service {domain}.{service} only returns a response: call it with "
                "return_response"
            )
        raw = dict(data or {})
        if entry.schema is not None:
            try:
                raw = entry.schema(raw)
            except vol.Invalid as err:
                raise ServiceValidationError(
                    f"Invalid data for {domain}.{service}: {humanize_invalid(err)}"
                ) from err
        context = context or Context()
        self._hub.bus.async_fire(
            EVENT_CALL_SERVICE,
            {"domain": domain, "service": service, "service_data": raw},
            context=context,
        )
        call = ServiceCall(domain, service, raw, context, return_response)
        result = entry.handler(call)
        if isawaitable(result):
            result = await result
        return result if return_response else None
