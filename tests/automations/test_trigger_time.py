"""`time` and `time_pattern` triggers: site-local times of day, helpers, patterns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from plantpulse.core.clock import Cancel, ManualClock
from tests.automations.conftest import SHANGHAI, START, PlantFactory

REPORT = """
        actions:
          - event: fired
            event_data:
              id: "{{ trigger.id }}"
              now: "{{ trigger.now.isoformat() }}"
              entity: "{{ trigger.entity_id }}"
"""


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> str:
    """An ISO time in Shanghai, March 2026, as `trigger.now.isoformat()` gives it."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=SHANGHAI).isoformat()


async def test_at_a_local_time_of_day_every_day(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time
            at: "17:30:15"
    """ + REPORT)

    await site.advance_to_local(17, 30, 14)
    assert site.fired == []
    await site.advance_to_local(17, 30, 15)
    await site.advance_to_local(17, 30, 15, day=3)

    assert [event["now"] for event in site.fired] == [local(2, 17, 30, 15), local(3, 17, 30, 15)]


async def test_at_a_list_of_times_and_a_time_already_past_today(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time
            at: ["08:00", "18:00"]
    """ + REPORT)  # the site starts at 17:00

    await site.advance_to_local(9, 0, day=3)

    assert [event["now"] for event in site.fired] == [local(2, 18), local(3, 8)]


async def test_unquoted_yaml_time_is_read_as_a_time(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time
            at: 17:45
    """ + REPORT)

    await site.advance_to_local(18)

    assert [event["now"] for event in site.fired] == [local(2, 17, 45)]


async def test_at_an_input_datetime_time_follows_its_changes(plant: PlantFactory) -> None:
    site = await plant("""
    input_datetime:
      shift_end:
        has_time: true
        initial: "17:30:00"
    automation:
      - triggers:
          - trigger: time
            at: input_datetime.shift_end
    """ + REPORT)

    await site.advance_to_local(17, 30)
    assert [event["now"] for event in site.fired] == [local(2, 17, 30)]
    assert site.fired[0]["entity"] == "input_datetime.shift_end"

    await site.hub.services.async_call("input_datetime", "set_datetime",
                                       {"entity_id": "input_datetime.shift_end",
                                        "time": "19:15:00"})
    await site.advance_to_local(18, 0, day=3)

    assert [event["now"] for event in site.fired] == [local(2, 17, 30), local(2, 19, 15)]


async def test_at_an_input_datetime_with_date_fires_once(plant: PlantFactory) -> None:
    site = await plant("""
    input_datetime:
      delivery:
        has_date: true
        has_time: true
    automation:
      - triggers:
          - trigger: time
            at: input_datetime.delivery
    """ + REPORT)
    await site.hub.services.async_call("input_datetime", "set_datetime",
                                       {"entity_id": "input_datetime.delivery",
                                        "datetime": "2026-03-03 06:30:00"})
    await site.hub.async_block_till_done()

    await site.advance_to_local(6, 30, day=5)

    assert [event["now"] for event in site.fired] == [local(3, 6, 30)]


async def test_at_a_timestamp_sensor(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time
            at: sensor.next_batch
    """ + REPORT)

    await site.set("sensor.next_batch", "2026-03-02T10:00:00+00:00",
                   {"device_class": "timestamp"})
    await site.advance_to_local(19)

    assert [event["now"] for event in site.fired] == [local(2, 18)]


async def test_at_a_helper_without_a_time_never_fires(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time
            at: sensor.missing
    """ + REPORT)

    await site.set("sensor.missing", "unknown")
    await site.advance_to_local(17, day=4)

    assert site.fired == []


async def test_time_pattern_every_fifth_minute(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time_pattern
            minutes: "/5"
    """ + REPORT)

    await site.advance_to_local(17, 16)

    assert [event["now"] for event in site.fired] == [
        local(2, 17, 5), local(2, 17, 10), local(2, 17, 15),
    ]


async def test_time_pattern_units_left_out_below_a_given_one_are_zero(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time_pattern
            hours: 18
            seconds: 30
    """ + REPORT)

    await site.advance_to_local(18, 5, day=3)

    # Minutes default to 0 because hours are given: once a day, not every minute of 18:xx.
    assert [event["now"] for event in site.fired] == [local(2, 18, 0, 30), local(3, 18, 0, 30)]


async def test_time_pattern_every_twenty_seconds(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time_pattern
            seconds: "/20"
    """ + REPORT)

    await site.advance_to_local(17, 1)

    assert [event["now"] for event in site.fired] == [
        local(2, 17, 0, 20), local(2, 17, 0, 40), local(2, 17, 1, 0),
    ]


async def test_time_pattern_at_a_fixed_hour(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: time_pattern
            hours: 6
    """ + REPORT)

    await site.advance_to_local(7, day=4)

    assert [event["now"] for event in site.fired] == [local(3, 6), local(4, 6)]


class EarlyClock(ManualClock):
    """Fires timers half a millisecond early, as the system clock may (within its tolerance)."""

    def call_at(self, timestamp: float, callback: Callable[[], None]) -> Cancel:
        return super().call_at(timestamp - 0.0005, callback)


async def test_a_timer_firing_a_hair_early_does_not_fire_twice(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: parallel
        triggers:
          - id: time
            trigger: time
            at: "17:30"
          - id: pattern
            trigger: time_pattern
            minutes: 15
    """ + REPORT, clock=EarlyClock(START))

    await site.advance_to_local(18)

    assert sorted(site.ids()) == ["pattern", "time"]
