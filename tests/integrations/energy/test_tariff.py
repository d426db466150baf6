"""Tariffs: day schedules checked for gaps and overlaps, seasons, holidays, dated versions,
and the engine's split of consumption between periods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import voluptuous as vol

from plantpulse.core.hub import Hub
from plantpulse.integrations.energy.const import Period
from plantpulse.integrations.energy.cost import MeterSeries, consumption_by_segment
from plantpulse.integrations.energy.tariff import tariff_schema

SHANGHAI = ZoneInfo("Asia/Shanghai")

TARIFF = {
    "holidays": {date(2022, 10, 3): "weekend"},
    "versions": [
        {"valid_from": date(2022, 1, 1),
         "prices": {"sharp": 1.2, "peak": 1.0, "flat": 0.6, "valley": 0.3},
         "days": {
             "workday": [{"from": "00:00", "to": "08:00", "period": "valley"},
                         {"from": "08:00", "to": "18:00", "period": "flat"},
                         {"from": "18:00", "to": "20:00", "period": "sharp"},
                         {"from": "20:00", "to": "00:00", "period": "peak"}],
             "weekend": [{"from": "00:00", "to": "24:00", "period": "valley"}],
             "summer": [{"from": "23:00", "to": "07:00", "period": "deep_valley"},
                        {"from": "07:00", "to": "23:00", "period": "peak"}],
         },
         "seasons": [{"months": [1, 2, 3, 4, 5, 6, 9, 10, 11, 12], "day": "workday",
                      "weekend": "weekend"},
                     {"months": [7, 8], "day": "summer",
                      "prices": {"deep_valley": 0.2, "peak": 1.1}}]},
        {"valid_from": date(2022, 11, 1), "prices": {"valley": 0.25},
         "schedule": [{"from": "00:00", "to": "24:00", "period": "valley"}]},
    ],
}


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_periods_by_time_season_weekend_holiday_and_version() -> None:
    tariff = tariff_schema("grid")(TARIFF)
    assert tariff.at(at(2022, 3, 1, 7, 59), SHANGHAI)[:2] == (Period.VALLEY, 0.3)
    period, price, change = tariff.at(at(2022, 3, 1, 19, 30), SHANGHAI)
    assert (period, price, change) == (Period.SHARP, 1.2, at(2022, 3, 1, 20, 0))
    assert tariff.at(at(2022, 3, 1, 23, 0), SHANGHAI)[2] == at(2022, 3, 2, 0, 0)
    assert tariff.at(at(2022, 3, 5, 19, 30), SHANGHAI)[0] is Period.VALLEY  # a Saturday
    assert tariff.at(at(2022, 10, 3, 19, 30), SHANGHAI)[0] is Period.VALLEY  # a holiday
    assert tariff.at(at(2022, 10, 4, 19, 30), SHANGHAI)[0] is Period.SHARP
    assert tariff.at(at(2022, 7, 12, 23, 30), SHANGHAI)[:2] == (Period.DEEP_VALLEY, 0.2)
    assert tariff.at(at(2022, 7, 12, 6, 59), SHANGHAI)[:2] == (Period.DEEP_VALLEY, 0.2)
    assert tariff.at(at(2022, 7, 12, 12, 0), SHANGHAI)[:2] == (Period.PEAK, 1.1)
    assert tariff.at(at(2022, 11, 1, 19, 30), SHANGHAI)[:2] == (Period.VALLEY, 0.25)


def spans(*triples: tuple[str, str, str]) -> dict:
    return {"versions": [{"valid_from": "2022-01-01",
                          "prices": {"peak": 1, "flat": 0.5, "valley": 0.3},
                          "schedule": [{"from": a, "to": b, "period": p}
                                       for a, b, p in triples]}]}


@pytest.mark.parametrize(("triples", "message"), [
    ((("00:00", "08:00", "valley"), ("09:00", "24:00", "flat")),
     "gap 08:00–09:00 is in no period"),
    ((("00:00", "08:00", "valley"), ("07:30", "24:00", "flat")),
     "overlap 07:30–08:00 is in both 'valley' (00:00–08:00) and 'flat' (07:30–24:00)"),
    ((("22:00", "06:00", "valley"), ("06:00", "21:00", "flat")),
     "gap 21:00–22:00 is in no period"),
    ((("00:00", "12:00", "valley"), ("12:00", "23:45", "flat")),
     "gap 23:45–24:00 is in no period"),
])
def test_a_day_with_gaps_or_overlaps_is_rejected_with_the_times(triples: tuple,
                                                                 message: str) -> None:
    with pytest.raises(vol.Invalid) as caught:
        tariff_schema("grid")(spans(*triples))
    assert message in str(caught.value)
    assert "must cover 00:00–24:00 exactly once" in str(caught.value)


def test_unquoted_yaml_times_and_missing_prices() -> None:
    tariff = tariff_schema("grid")(spans(("00:00", 600, "valley"), (600, "00:00", "flat")))
    assert tariff.at(at(2022, 1, 3, 9, 59), SHANGHAI)[0] is Period.VALLEY
    with pytest.raises(vol.Invalid, match="no price for sharp"):
        tariff_schema("grid")(spans(("00:00", "12:00", "sharp"), ("12:00", "24:00", "flat")))


def test_split_in_proportion_when_an_hour_spans_a_change_of_period() -> None:
    tariff = tariff_schema("grid")(spans(("00:00", "08:30", "valley"),
                                         ("08:30", "24:00", "flat")))
    segments = tariff.segments(date(2022, 1, 3), date(2022, 1, 4), SHANGHAI)
    hour_ends = [at(2022, 1, 3, 7).timestamp(), at(2022, 1, 3, 8).timestamp(),
                 at(2022, 1, 3, 9).timestamp()]
    exact, approximate = consumption_by_segment(
        MeterSeries(np.array(hour_ends[:2]), np.array([0.0, 60.0])), segments)
    assert (exact[0], approximate) == (60.0, False)
    split, approximate = consumption_by_segment(
        MeterSeries(np.array(hour_ends), np.array([0.0, 60.0, 100.0])), segments)
    assert approximate is True
    assert list(split) == [80.0, 20.0]


async def test_bad_tariff_in_yaml_names_file_line_and_times(
        hub_factory: Callable[..., Awaitable[Hub]]) -> None:
    hub = await hub_factory("""
energy:
  tariffs:
    good:
      versions:
        - valid_from: 2022-01-01
          prices: {flat: 0.6}
          schedule:
            - {from: "00:00", to: "24:00", period: flat}
    bad:
      versions:
        - valid_from: 2022-01-01
          prices: {peak: 1.0, valley: 0.3}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "07:00", to: "24:00", period: peak}
  meters:
    - id: main
      entity: sensor.main_kwh
      tariff: missing
""")
    messages = [str(issue) for issue in hub.config_issues]
    assert any("(configuration.yaml, line 14)" in text and "tariff 'bad'" in text
               and "overlap 07:00–08:00" in text for text in messages), messages
    assert any("(configuration.yaml, line 20)" in text
               and "tariff 'missing' is not defined" in text for text in messages), messages
    assert hub.states.get("sensor.good_period").state == "flat"
    assert hub.states.get("sensor.bad_period") is None


async def test_sensors_switch_at_the_edges_and_template_helper(
        hub_factory: Callable[..., Awaitable[Hub]]) -> None:
    from plantpulse.core.clock import ManualClock
    from plantpulse.core.template import Template, TemplateError

    clock = ManualClock(datetime(2022, 3, 1, 9, 59, 30, tzinfo=UTC))  # 17:59:30 local
    hub = await hub_factory("""
energy:
  tariffs:
    grid:
      versions:
        - valid_from: 2022-01-01
          prices: {sharp: 1.2, flat: 0.6, valley: 0.3}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "18:00", period: flat}
            - {from: "18:00", to: "20:00", period: sharp}
            - {from: "20:00", to: "24:00", period: flat}
""", clock=clock)
    assert hub.states.get("sensor.grid_period").state == "flat"
    assert hub.states.get("sensor.grid_price").state == "0.6"
    assert hub.states.get("sensor.grid_period").attributes["next_change"] == \
        "2022-03-01T18:00:00+08:00"
    assert Template("{{ tariff_period() }}").async_render(hub, {}) == "flat"
    await clock.advance(29)
    assert hub.states.get("sensor.grid_period").state == "flat"
    await clock.advance(1)
    assert hub.states.get("sensor.grid_period").state == "sharp"
    assert hub.states.get("sensor.grid_price").state == "1.2"
    assert Template("{{ tariff_period('grid') }}").async_render(hub, {}) == "sharp"
    assert Template(
        "{{ tariff_period('grid', as_datetime('2022-03-02T07:00:00+08:00')) }}"
    ).async_render(hub, {}) == "valley"
    assert Template("{{ tariff_period(at='2022-03-02 07:00') }}").async_render(hub, {}) == "valley"
    with pytest.raises(TemplateError, match="not an ISO 8601 time"):
        Template("{{ tariff_period(at='tonight') }}").async_render(hub, {})
    await clock.advance(2 * 3600)
    assert hub.states.get("sensor.grid_period").state == "flat"
