"""Templates: the helpers authors expect, parsed results, dependency tracking, and limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.config.site import SiteConfig
from plantpulse.core.hub import Hub
from plantpulse.core.template import (
    Template,
    TemplateError,
    async_register_template_function,
    render_complex,
)

# 2026-03-02 17:30 in Shanghai.
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
async def plant(tmp_path: Path) -> Hub:
    hub = Hub(tmp_path, SiteConfig(time_zone="Asia/Shanghai"), clock=ManualClock(NOW))
    hub.states.async_set("sensor.line_load", "45.2", {"unit_of_measurement": "kW"})
    hub.states.async_set("sensor.pump", "unavailable")
    hub.states.async_set("switch.fan", "on")
    yield hub
    await hub.async_stop()


def render(hub: Hub, source: str, **variables: object) -> object:
    return Template(source).async_render(hub, variables)


@pytest.mark.parametrize(("source", "expected"), [
    ("{{ states('sensor.line_load') | float(0) > 40 }}", True),
    ("{{ states('sensor.missing') }}", "unknown"),
    ("{{ states.sensor.line_load.state }}", 45.2),
    ("{{ states.sensor.line_load.attributes.unit_of_measurement }}", "kW"),
    ("{{ is_state('switch.fan', 'on') }}", True),
    ("{{ is_state('switch.fan', ['off', 'on']) }}", True),
    ("{{ state_attr('sensor.line_load', 'unit_of_measurement') }}", "kW"),
    ("{{ is_state_attr('sensor.line_load', 'unit_of_measurement', 'kW') }}", True),
    ("{{ has_value('sensor.pump') }}", False),
    ("{{ now().hour }}", 17),
    ("{{ utcnow().hour }}", 9),
    ("{{ today_at('17:00') < now() }}", True),
    ("{{ as_timestamp('2026-03-02T09:30:00Z') }}", NOW.timestamp()),
    ("{{ as_datetime('2026-03-02T09:30:00+00:00').year }}", 2026),
    ("{{ 'abc' | float(0) }}", 0.0),
    ("{{ float('1.5') + 1 }}", 2.5),
    ("{{ '7.9' | int }}", 7),
    ("{{ 'x' | int(3) }}", 3),
    ("{{ 3.14159 | round(2) }}", 3.14),
    ("{{ 3.2 | round(0, 'ceil') }}", 4),
    ("{{ min(4, 2, 9) }} {{ max([4, 2, 9]) }}", "2 9"),
    ("{{ iif(states('switch.fan') == 'on', 'running', 'stopped') }}", "running"),
    ("{{ relative_time(now() - timedelta(hours=3)) }}", "3 hours"),
    ("{{ [1, 2] }}", [1, 2]),
    ("{{ '00123' }}", "00123"),
    ("{{ load * 2 }}", 90.4),
])
async def test_helpers(plant: Hub, source: str, expected: object) -> None:
    assert render(plant, source, load=45.2) == expected


async def test_render_info_tracks_what_was_read(plant: Hub) -> None:
    result = Template(
        "{{ states('sensor.line_load') }} {{ states.switch.fan.state }} "
        "{{ states.binary_sensor | list | count }} {{ now() }}"
    ).async_render_with_info(plant)
    assert result.error is None
    assert result.info.entities == {"sensor.line_load", "switch.fan"}
    assert result.info.domains == {"binary_sensor"}
    assert result.info.uses_time
    assert not result.info.all_states


async def test_errors_are_reported_not_raised_with_info(plant: Hub) -> None:
    result = Template("{{ states('sensor.line_load') | float > 'x' }}").async_render_with_info(
        plant)
    assert isinstance(result.error, TemplateError)
    assert "TypeError" in str(result.error)
    assert result.info.entities == {"sensor.line_load"}
    with pytest.raises(TemplateError, match="float got invalid input 'unavailable'"):
        render(plant, "{{ states('sensor.pump') | float }}")
    with pytest.raises(TemplateError, match=r"invalid template \(line 1\)"):
        Template("{{ states('x' }}").ensure_valid()


@pytest.mark.parametrize(("source", "message"), [
    ("{% for i in range(10**6) %}{% endfor %}", "more than 100,000 steps"),
    ("{% for s in states %}{% for t in range(100000) %}{% endfor %}{% endfor %}",
     "more than 100,000 steps"),
    ("{{ 'x' * 10**8 }}", "would exceed"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}"
     "{% endfor %}", "built a value"),
    ("{{ 'x' | center(10**7) }}", "built a value"),
    ("{% for i in range(99999) %}{{ 'yyyyyyyy' }}{% endfor %}", "output passed"),
    ("{{ 9 ** 99999 }}", "exponent"),
    ("{{ states.sensor.__class__.__mro__ }}", "unsafe"),
])
async def test_runaway_and_unsafe_templates_are_cut_off(
    plant: Hub, source: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        render(plant, source)


async def test_sandbox_is_immutable(plant: Hub) -> None:
    with pytest.raises(TemplateError, match="SecurityError"):
        render(plant, "{{ states.sensor.line_load.attributes.update({'x': 1}) }}")


async def test_integrations_add_functions_and_complex_rendering(plant: Hub) -> None:
    async_register_template_function(plant, "tariff_period", lambda: "peak")
    assert render(plant, "{{ tariff_period() }}") == "peak"
    data = {"message": Template("Load {{ states('sensor.line_load') }} kW"),
            "targets": [Template("{{ 'ops' }}"), "plain"], "count": 3}
    assert render_complex(data, plant) == {"message": "Load 45.2 kW", "targets": ["ops", "plain"],
                                           "count": 3}


async def test_time_helpers_follow_the_hub_clock(plant: Hub) -> None:
    clock = plant.clock
    assert isinstance(clock, ManualClock)
    before = render(plant, "{{ now() > today_at('17:00') }}")
    await clock.advance(timedelta(hours=12).total_seconds())
    assert (before, render(plant, "{{ now() > today_at('17:00') }}")) == (True, False)


async def test_output_is_stripped_before_it_is_parsed(plant: Hub) -> None:
    """As in Home Assistant: a multi-line template that spells a number gives the number."""
    plant.states.async_set("sensor.reading", "630")
    source = "\n  {% if true %}\n    {{ states('sensor.reading') }}\n  {% endif %}\n"
    assert render(plant, source) == 630
    assert Template(source).async_render(plant, parse_result=False) == "630"
    assert Template("  plain text \n").async_render(plant) == "plain text"
