"""The service registry: schemas, responses, errors, the call_service event."""

from __future__ import annotations

import pytest
import voluptuous as vol

from plantpulse.core.events import Context, Event
from plantpulse.core.exceptions import ServiceNotFound, ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.services import ServiceCall, SupportsResponse


async def test_call_validates_and_passes_context(hub: Hub) -> None:
    calls: list[ServiceCall] = []

    async def handler(call: ServiceCall) -> None:
        calls.append(call)

    hub.services.async_register("pump", "set_speed", handler,
                                vol.Schema({vol.Required("rpm"): vol.Coerce(int)}))
    events: list[Event] = []
    hub.bus.async_listen("call_service", events.append)
    context = Context(user_id="operator1")
    await hub.services.async_call("pump", "set_speed", {"rpm": "1450"}, context=context)
    assert calls[0].data == {"rpm": 1450}
    assert calls[0].context is context
    assert events[0].data == {"domain": "pump", "service": "set_speed",
                              "service_data": {"rpm": 1450}}


async def test_validation_error_names_the_field(hub: Hub) -> None:
    hub.services.async_register("pump", "set_speed", lambda call: None,
                                vol.Schema({vol.Required("rpm"): vol.Coerce(int)}))
    with pytest.raises(ServiceValidationError, match="for 'rpm'"):
        await hub.services.async_call("pump", "set_speed", {"rpm": "fast"})


async def test_unknown_service(hub: Hub) -> None:
    with pytest.raises(ServiceNotFound, match=r"Service nope\.x not found"):
        await hub.services.async_call("nope", "x")


async def test_responses(hub: Hub) -> None:
    hub.services.async_register("report", "daily", lambda call: {"kwh": 1234},
                                supports_response=SupportsResponse.ONLY)
    hub.services.async_register("report", "maybe", lambda call: {"ok": True},
                                supports_response=SupportsResponse.OPTIONAL)
    assert await hub.services.async_call("report", "daily", return_response=True) == {"kwh": 1234}
    assert await hub.services.async_call("report", "maybe") is None
    with pytest.raises(ServiceValidationError, match="only returns a response"):
        await hub.services.async_call("report", "daily")
    hub.services.async_register("plain", "go", lambda call: None)
    with pytest.raises(ServiceValidationError, match="does not return"):
        await hub.services.async_call("plain", "go", return_response=True)
    assert hub.services.async_services()["report"]["daily"].as_dict()["response"] == {
        "optional": False
    }
