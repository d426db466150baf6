"""Blueprints: a user's own blueprint with every kind of input, `!input` everywhere, lookup
(the config dir first, then the shipped ones), reload, and errors that name file and line."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from plantpulse.automations.blueprints import SHIPPED_DIR, load_blueprint
from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 17:00 in Shanghai
PRESSURE = "sensor.compressor_2_pressure"

COMPRESSOR_WATCH = """\
blueprint:
  name: Compressor watch
  description: High pressure for a while after a time of day switches helpers on.
  domain: automation
  input:
    pressure:
      name: Pressure sensor
      selector: {entity: {domain: sensor}}
    limit:
      selector: {number: {min: 0, max: 16, unit_of_measurement: bar}}
    hold:
      default: {minutes: 2}
      selector: {duration: {}}
    after:
      default: "08:00"
      selector: {time: {}}
    label:
      default: Compressor
      selector: {text: {}}
    helpers:
      selector: {target: {}}
    enabled:
      default: true
      selector: {boolean: {}}
    level:
      default: minor
      selector: {select: {options: [major, minor]}}
variables:
  label: !input label
  level: !input level
  enabled: !input enabled
triggers:
  - trigger: numeric_state
    entity_id: !input pressure
    above: !input limit
    for: !input hold
conditions:
  - condition: time
    after: !input after
  - "{{ enabled }}"
actions:
  - action: input_boolean.turn_on
    target: !input helpers
  - event: compressor_alert
    event_data:
      text: "{{ label }} at {{ trigger.to_state.state }} bar ({{ level }})"
"""


async def _hub(hub_factory: HubFactory, automations: str, files: dict[str, str],
               extra: str = "") -> tuple[Hub, ManualClock, list[dict]]:
    clock = ManualClock(T0)
    hub = await hub_factory(
        "input_boolean:\n  horn: {}\n  beacon: {}\n" + extra + "automation:\n" + automations,
        extra_files=files, clock=clock,
    )
    alerts: list[dict] = []

    def record(event: Event) -> None:
        alerts.append(dict(event.data))

    hub.bus.async_listen("compressor_alert", record)
    return hub, clock, alerts


async def _pressure(hub: Hub, clock: ManualClock, value: float, minutes: float = 0) -> None:
    hub.states.async_set(PRESSURE, str(value))
    await hub.async_block_till_done()
    await clock.advance(minutes * 60)
    await hub.async_block_till_done()


async def test_a_users_blueprint_with_every_kind_of_input(hub_factory: HubFactory) -> None:
    hub, clock, alerts = await _hub(hub_factory, """\
  - alias: Compressor 2 pressure
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.compressor_2_pressure
        limit: 8.5
        hold: "00:03:00"
        after: "16:00"
        label: 二号空压机
        helpers: {entity_id: [input_boolean.horn, input_boolean.beacon]}
        level: major
  - alias: Compressor 2, switched off
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.compressor_2_pressure
        limit: 8
        helpers: {entity_id: input_boolean.beacon}
        enabled: false
""", {"blueprints/automation/factory/compressor_watch.yaml": COMPRESSOR_WATCH})
    assert hub.config_issues == []
    await _pressure(hub, clock, 7.0)
    await _pressure(hub, clock, 9.1, 2.9)
    assert alerts == []
    await _pressure(hub, clock, 9.2, 0.1)

    assert alerts == [{"text": "二号空压机 at 9.1 bar (major)"}]
    assert hub.states.get("input_boolean.horn").state == "on"
    assert hub.states.get("input_boolean.beacon").state == "on"
    automation = hub.states.get("automation.compressor_2_switched_off")
    assert automation is not None and automation.attributes["last_triggered"] is None


async def test_the_time_input_reaches_the_condition(hub_factory: HubFactory) -> None:
    hub, clock, alerts = await _hub(hub_factory, """\
  - alias: Compressor 2 in the evening
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.compressor_2_pressure
        limit: 8
        after: "18:00"
        helpers: {entity_id: input_boolean.horn}
""", {"blueprints/automation/factory/compressor_watch.yaml": COMPRESSOR_WATCH})
    await _pressure(hub, clock, 9, 5)  # 17:05, before 18:00
    await _pressure(hub, clock, 7, 60)
    assert alerts == []
    await _pressure(hub, clock, 9, 2)  # 18:07
    assert alerts == [{"text": "Compressor at 9 bar (minor)"}]


async def test_a_users_file_wins_over_a_shipped_one_of_the_same_path(
    hub_factory: HubFactory
) -> None:
    own = COMPRESSOR_WATCH.replace("name: Compressor watch", "name: Our own meter_offline")
    hub, clock, alerts = await _hub(hub_factory, """\
  - alias: Not the shipped one
    use_blueprint:
      path: plantpulse/meter_offline.yaml
      input:
        pressure: sensor.compressor_2_pressure
        limit: 8
        hold: 0
        helpers: {entity_id: input_boolean.horn}
""", {"blueprints/automation/plantpulse/meter_offline.yaml": own})
    assert hub.config_issues == []
    await _pressure(hub, clock, 9)
    assert alerts == [{"text": "Compressor at 9 bar (minor)"}]


async def test_reload_reads_a_changed_blueprint(hub_factory: HubFactory) -> None:
    hub, clock, alerts = await _hub(hub_factory, """\
  - alias: Compressor 2 pressure
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.compressor_2_pressure
        limit: 8
        hold: 0
        helpers: {entity_id: input_boolean.horn}
""", {"blueprints/automation/factory/compressor_watch.yaml": COMPRESSOR_WATCH})
    file = hub.config_dir / "blueprints/automation/factory/compressor_watch.yaml"
    file.write_text(COMPRESSOR_WATCH.replace("{{ label }} at", "{{ label }} reached"),
                    encoding="utf-8")
    await hub.services.async_call("automation", "reload", {})
    await _pressure(hub, clock, 9)
    assert alerts == [{"text": "Compressor reached 9 bar (minor)"}]


BROKEN_HEADER = """\
blueprint:
  name: Broken
  domain: automation
  input:
    sensor:
      selector: {entity: {domain: sensor}}
      colour: red
triggers: [{trigger: event, event_type: go}]
actions: [{event: fired}]
"""
BAD_DEFAULT = """\
blueprint:
  name: Bad default
  domain: automation
  input:
    limit:
      default: 20
      selector: {number: {min: 0, max: 16}}
triggers: [{trigger: event, event_type: go}]
actions: [{event: fired}]
"""
UNDECLARED = """\
blueprint:
  name: Undeclared input
  domain: automation
triggers:
  - trigger: state
    entity_id: !input sensor
actions: [{event: fired}]
"""
SCRIPT = """\
blueprint:
  name: A script blueprint
  domain: script
sequence: [{event: fired}]
"""
PLAIN = """\
triggers: [{trigger: event, event_type: go}]
actions: [{event: fired}]
"""
SYNTAX = """\
blueprint:
  name: Broken YAML
  domain: automation
triggers: [{trigger: event, event_type: go}
actions: [{event: fired}]
"""


async def test_errors_name_the_file_and_line_and_the_rest_still_loads(
    hub_factory: HubFactory
) -> None:
    automations = """\
  - alias: fine
    triggers: [{trigger: event, event_type: go}]
    actions: [{event: fired}]
  - alias: missing file
    use_blueprint: {path: factory/nothing.yaml, input: {}}
  - alias: missing input
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        limit: 8
        helpers: {entity_id: input_boolean.horn}
  - alias: unknown input
    use_blueprint:
      path: factory/compressor_watch.yaml
      input: {pressure: sensor.a, limit: 8, helpers: {}, colour: red}
  - alias: out of range
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.a
        limit: 17
        helpers: {}
  - alias: bad entity
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: compressor 2
        limit: 8
        helpers: {}
  - alias: wrong domain
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: switch.compressor_2
        limit: 8
        helpers: {}
  - alias: bad time
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.a
        limit: 8
        helpers: {}
        after: "25:00"
  - alias: broken header
    use_blueprint: {path: factory/broken_header.yaml, input: {sensor: sensor.a}}
  - alias: bad default
    use_blueprint: {path: factory/bad_default.yaml}
  - alias: undeclared
    use_blueprint: {path: factory/undeclared.yaml}
  - alias: for scripts
    use_blueprint: {path: factory/script.yaml}
  - alias: plain
    use_blueprint: {path: factory/plain.yaml}
  - alias: syntax
    use_blueprint: {path: factory/syntax.yaml}
  - alias: escapes
    use_blueprint: {path: ../secrets.yaml}
  - alias: bad hold
    use_blueprint:
      path: factory/compressor_watch.yaml
      input:
        pressure: sensor.a
        limit: 8
        helpers: {}
        hold: soon
  - alias: also fine
    use_blueprint:
      path: factory/compressor_watch.yaml
      input: {pressure: sensor.b, limit: 8, helpers: {}}
"""
    folder = "blueprints/automation/factory/"
    hub, _clock, _alerts = await _hub(hub_factory, automations, {
        folder + "compressor_watch.yaml": COMPRESSOR_WATCH,
        folder + "broken_header.yaml": BROKEN_HEADER,
        folder + "bad_default.yaml": BAD_DEFAULT,
        folder + "undeclared.yaml": UNDECLARED,
        folder + "script.yaml": SCRIPT,
        folder + "plain.yaml": PLAIN,
        folder + "syntax.yaml": SYNTAX,
    })
    issues = [(issue.file, issue.line, issue.message) for issue in hub.config_issues]
    compressor = "blueprint factory/compressor_watch.yaml"
    bp = "blueprints/automation/factory/"
    assert issues == [
        ("configuration.yaml", 9, "automation 'missing file': blueprint 'factory/nothing.yaml' "
         "not found: put it in blueprints/automation/factory/nothing.yaml of the config dir, or "
         "use a shipped one such as plantpulse/off_hours_base_load.yaml"),
        ("configuration.yaml", 13, f"automation 'missing input': {compressor} needs input "
         "'pressure' (entity selector): add 'pressure:' under 'input:'"),
        ("configuration.yaml", 19, f"automation 'unknown input': {compressor} has no input "
         "'colour' (its inputs: after, enabled, helpers, hold, label, level, limit, pressure)"),
        ("configuration.yaml", 25, f"automation 'out of range': input 'limit' of {compressor}: "
         "17 is above the maximum 16"),
        ("configuration.yaml", 31, f"automation 'bad entity': input 'pressure' of {compressor}: "
         "invalid entity id 'compressor 2'"),
        ("configuration.yaml", 38, f"automation 'wrong domain': input 'pressure' of "
         f"{compressor}: switch.compressor_2 is not of domain sensor"),
        ("configuration.yaml", 48, f"automation 'bad time': input 'after' of {compressor}: "
         "expected a time of day such as '17:00' or '17:00:00', got '25:00'"),
        (bp + "broken_header.yaml", 7, "automation 'broken header': blueprint "
         "factory/broken_header.yaml: unknown key 'colour'"),
        (bp + "bad_default.yaml", 6, "automation 'bad default': blueprint "
         "factory/bad_default.yaml, input 'limit': its default does not fit its selector: 20 "
         "is above the maximum 16"),
        (bp + "undeclared.yaml", 6, "automation 'undeclared': blueprint factory/undeclared.yaml "
         "uses '!input sensor', which it does not declare under 'input:'"),
        (bp + "script.yaml", 3, "automation 'for scripts': blueprint factory/script.yaml is "
         "for 'script', not automation"),
        (bp + "plain.yaml", 1, f"automation 'plain': {bp}plain.yaml is not a blueprint: it "
         "needs a 'blueprint:' header"),
        (bp + "syntax.yaml", 5, "automation 'syntax': blueprint factory/syntax.yaml: YAML "
         "syntax error: while parsing a flow sequence did not find "
         "expected ',' or ']'"),
        ("configuration.yaml", 62, "automation 'escapes': blueprint path '../secrets.yaml' must "
         "be a .yaml file under blueprints/automation/, such as "
         "plantpulse/off_hours_base_load.yaml (no leading / and no '..')"),
        ("configuration.yaml", 70, "automation 'bad hold': input 'hold' of "
         f"{compressor}: expected a time period such as 30, '00:05:00' or {{minutes: 5}}"),
    ]
    assert sorted(hub.states.entity_ids("automation")) == [
        "automation.also_fine", "automation.fine"]


def test_every_shipped_blueprint_loads_and_speaks_both_languages(tmp_path: Path) -> None:
    shipped = sorted(path.relative_to(SHIPPED_DIR / "automation").as_posix()
                     for path in (SHIPPED_DIR / "automation").rglob("*.yaml"))
    assert shipped == ["plantpulse/alarm_escalation.yaml", "plantpulse/meter_offline.yaml",
                       "plantpulse/off_hours_base_load.yaml",
                       "plantpulse/threshold_hysteresis.yaml"]
    chinese, latin = re.compile(r"[\u4e00-\u9fff]"), re.compile(r"[A-Za-z]{3}")
    for path in shipped:
        blueprint = load_blueprint(tmp_path, "automation", path, (None, None))
        assert blueprint.file == f"blueprints/automation/{path}"
        assert chinese.search(blueprint.name) and latin.search(blueprint.name), path
        for spec in blueprint.inputs.values():
            assert spec.kind != "any", f"{path}: input {spec.name} has no selector"


async def test_a_shipped_blueprints_inputs_are_checked_as_the_readme_shows(
    hub_factory: HubFactory
) -> None:
    hub = await hub_factory("automation: !include automations.yaml\n", extra_files={
        "automations.yaml": """\
            - id: anodizing_line_off_hours
              alias: 阳极氧化线下班后负荷
              use_blueprint:
                path: plantpulse/off_hours_base_load.yaml
                input:
                  power_sensor: sensor.anodizing_line_power
                  threshold: -5
            """})
    assert [str(issue) for issue in hub.config_issues] == [
        "Invalid config for 'automation' (automations.yaml, line 7): automation "
        "'阳极氧化线下班后负荷': input 'threshold' of blueprint "
        "plantpulse/off_hours_base_load.yaml: -5 is below the minimum 0"]
    assert hub.states.entity_ids("automation") == []
