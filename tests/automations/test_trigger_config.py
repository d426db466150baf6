"""Trigger and condition config: errors with file and line, and triggers from integrations."""

from __future__ import annotations

from tests.automations.conftest import PlantFactory

AUTOMATIONS = """
- id: good_before
  triggers:
    - trigger: event
      event_type: check
  actions:
    - event: fired
      event_data: {id: good_before}
- id: unknown_platform
  triggers:
    - trigger: event
      event_type: check
    - trigger: sunrise_magic
  actions:
    - event: fired
- id: no_entity
  triggers:
    - trigger: state
      to: "on"
  actions:
    - event: fired
- id: bad_time
  triggers:
    - trigger: time
      at: "25:61"
  actions:
    - event: fired
- id: bad_condition
  triggers:
    - trigger: event
      event_type: check
  conditions:
    - condition: time
      after: "noon"
  actions:
    - event: fired
- id: unknown_condition
  triggers:
    - trigger: event
      event_type: check
  conditions:
    - condition: sunny
  actions:
    - event: fired
- id: two_platform_keys
  triggers:
    - platform: event
      trigger: homeassistant
      event_type: check
  actions:
    - event: fired
- id: good_after
  triggers:
    - trigger: event
      event_type: check
  actions:
    - event: fired
      event_data: {id: good_after}
"""


async def test_bad_triggers_and_conditions_name_file_and_line_and_others_run(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation: !include automations.yaml
    """, extra_files={"automations.yaml": AUTOMATIONS})

    issues = [issue for issue in site.hub.config_issues if issue.domain == "automation"]
    located = {(issue.file, issue.line): issue.message for issue in issues}
    lines = AUTOMATIONS.splitlines()  # the file starts with this empty line

    def line_of(text: str) -> int:
        return next(number for number, line in enumerate(lines, 1) if text in line)

    def message_at(text: str) -> str:
        return located[("automations.yaml", line_of(text))]

    assert "unknown trigger platform 'sunrise_magic'" in message_at("trigger: sunrise_magic")
    assert "entity_id" in message_at("trigger: state")
    assert "25:61" in message_at('at: "25:61"')
    assert "noon" in message_at('after: "noon"')
    assert "unknown condition 'sunny'" in message_at("condition: sunny")
    assert "either 'platform' or 'trigger'" in message_at("trigger: homeassistant")

    site.hub.bus.async_fire("check")
    await site.hub.async_block_till_done()
    # The broken automations are left out whole (not run on their remaining triggers).
    assert sorted(site.ids()) == ["good_after", "good_before"]


async def test_custom_integration_adds_a_trigger_platform(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: plc_bit_one
            bit: 3
        actions:
          - event: fired
            event_data:
              platform: "{{ trigger.platform }}"
              bit: "{{ trigger.bit }}"
              id: "{{ trigger.id }}"
    plc_bit_one:
    """, extra_files=custom_trigger_integration("plc_bit_one"))

    site.hub.bus.async_fire("plc_bit", {"bit": 2})
    site.hub.bus.async_fire("plc_bit", {"bit": 3})
    await site.hub.async_block_till_done()

    assert site.fired == [{"platform": "plc_bit_one", "bit": 3, "id": 0}]
    assert not [issue for issue in site.hub.config_issues if issue.domain == "automation"]


async def test_custom_trigger_config_is_validated_by_its_schema(plant: PlantFactory) -> None:
    site = await plant("""
    plc_bit_two:
    automation:
      - id: wrong_bit
        triggers:
          - trigger: plc_bit_two
            bit: many
        actions:
          - event: fired
    """, extra_files=custom_trigger_integration("plc_bit_two"))

    located = {(issue.file, issue.line): issue.message for issue in site.hub.config_issues}
    assert "expected int for 'bit'" in located[("configuration.yaml", 7)]
    assert "'wrong_bit' is not loaded" in located[("configuration.yaml", 4)]


def custom_trigger_integration(domain: str) -> dict[str, str]:
    """A custom integration whose `trigger.py` fires on `plc_bit` events with a given bit."""
    folder = f"custom_integrations/{domain}"
    return {
        f"{folder}/manifest.yaml": f"""
            domain: {domain}
            name: PLC bits
            version: "1.0"
        """,
        f"{folder}/__init__.py": '''
            """A PLC signal integration (test)."""


            async def async_setup(hub, config):
                return True
        ''',
        f"{folder}/trigger.py": f'''
            """`{domain}` trigger: a PLC bit was set."""
            import voluptuous as vol

            TRIGGER_SCHEMA = vol.Schema({{
                vol.Required("platform"): "{domain}",
                vol.Required("bit"): vol.All(int, vol.Range(min=0, max=15)),
            }})


            def async_attach_trigger(hub, config, action, info):
                def received(event):
                    if event.data.get("bit") == config["bit"]:
                        action({{**info.trigger_data, "platform": "{domain}",
                                 "bit": config["bit"], "description": "PLC bit"}},
                               event.context)

                return hub.bus.async_listen("plc_bit", received)
        ''',
    }


async def test_turning_an_automation_off_detaches_its_triggers_and_pending_waits(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - alias: Watcher
        mode: parallel
        triggers:
          - trigger: state
            entity_id: binary_sensor.door
            to: "on"
            for: 60
          - trigger: numeric_state
            entity_id: sensor.line_load
            above: 40
            for: 60
          - trigger: template
            value_template: "{{ is_state('switch.line', 'on') }}"
            for: 60
          - trigger: time
            at: "17:01"
          - trigger: time_pattern
            seconds: "/10"
          - trigger: event
            event_type: check
        actions:
          - event: fired
    """, states={"binary_sensor.door": "off", "sensor.line_load": "0", "switch.line": "off"})

    await site.set("binary_sensor.door", "on")
    await site.set("sensor.line_load", "50")
    await site.set("switch.line", "on")
    await site.hub.services.async_call("automation", "turn_off",
                                       {"entity_id": "automation.watcher"})
    await site.advance(120)
    site.hub.bus.async_fire("check")
    await site.hub.async_block_till_done()

    assert site.fired == []
