"""Coordinators: one poll feeds many entities; failures make them unavailable, with backoff."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from plantpulse.core.coordinator import Coordinator, CoordinatorEntity, UpdateFailed
from plantpulse.core.hub import Hub
from plantpulse.core.platforms.sensor import SensorEntity


class Register(CoordinatorEntity[dict], SensorEntity):
    def __init__(self, coordinator: Coordinator[dict], key: str) -> None:
        super().__init__(coordinator)
        self.key = key
        self._attr_name = key

    @property
    def native_value(self) -> float | None:
        return self.coordinator.data[self.key] if self.coordinator.data else None


async def test_poll_failure_backoff_and_recovery(hub: Hub) -> None:
    answers: list[dict | Exception] = [
        {"ua": 230.1, "ia": 12.0}, UpdateFailed("timeout"), UpdateFailed("timeout"),
        {"ua": 229.8, "ia": 11.5},
    ]
    polls = 0

    async def poll() -> dict:
        nonlocal polls
        polls += 1
        answer = answers[min(polls - 1, len(answers) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    coordinator = Coordinator(hub, "meter 1", poll, timedelta(seconds=0.02),
                              max_backoff=timedelta(seconds=0.05))
    await hub.entities.async_add("t", [Register(coordinator, "ua"), Register(coordinator, "ia")])
    await coordinator.async_start()
    assert polls == 1
    assert hub.states.get("sensor.ua").state == "230.1"
    await asyncio.sleep(0.03)
    assert coordinator.failures == 1
    assert hub.states.get("sensor.ua").state == "unavailable"
    assert hub.states.get("sensor.ia").state == "unavailable"
    assert coordinator.current_interval == timedelta(seconds=0.04)
    await asyncio.sleep(0.15)
    assert coordinator.failures == 0
    assert hub.states.get("sensor.ia").state == "11.5"
    assert coordinator.current_interval == timedelta(seconds=0.02)


async def test_a_failing_entity_does_not_stop_polling(hub: Hub) -> None:
    polls = 0

    async def poll() -> dict:
        nonlocal polls
        polls += 1
        return {"ua": "x" * 300 if polls == 1 else 230.0}

    coordinator = Coordinator(hub, "meter 2", poll, timedelta(seconds=0.02))
    await hub.entities.async_add("t", [Register(coordinator, "ua")])
    await coordinator.async_start()
    await asyncio.sleep(0.1)
    assert polls >= 3
    assert hub.states.get("sensor.ua").state == "230.0"
