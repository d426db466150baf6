"""`state` trigger: from/to, not_from/not_to, attribute, lists of entities, `for`."""

from __future__ import annotations

from tests.automations.conftest import PlantFactory

REPORT = """
        actions:
          - event: fired
            event_data:
              id: "{{ trigger.id }}"
              entity: "{{ trigger.entity_id }}"
              old: "{{ trigger.from_state.state if trigger.from_state else 'none' }}"
              new: "{{ trigger.to_state.state }}"
              for: "{{ trigger.for }}"
"""


async def test_from_to_fires_only_on_that_change(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - alias: Pump stopped
        triggers:
          - trigger: state
            entity_id: switch.pump
            from: "on"
            to: "off"
    """ + REPORT, states={"switch.pump": "on"})

    await site.set("switch.pump", "off")
    await site.set("switch.pump", "off", {"note": "attribute change only"})
    await site.set("switch.pump", "on")
    await site.set("switch.pump", "unavailable")
    await site.set("switch.pump", "off")

    assert [(event["old"], event["new"]) for event in site.fired] == [("on", "off")]
    assert site.fired[0]["entity"] == "switch.pump"


async def test_unquoted_yaml_booleans_mean_on_and_off(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - platform: state
            entity_id: switch.pump
            to: off
    """ + REPORT, states={"switch.pump": "on"})

    await site.set("switch.pump", "off")

    assert [event["new"] for event in site.fired] == ["off"]


async def test_without_from_or_to_every_change_fires_including_attributes(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: sensor.temperature
    """ + REPORT, states={"sensor.temperature": "20"})

    await site.set("sensor.temperature", "21")
    await site.set("sensor.temperature", "21", {"unit_of_measurement": "°C"})

    assert [event["new"] for event in site.fired] == [21, 21]


async def test_to_null_fires_on_state_changes_but_not_attribute_changes(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: sensor.temperature
            to: ~
    """ + REPORT, states={"sensor.temperature": "20"})

    await site.set("sensor.temperature", "20", {"unit_of_measurement": "°C"})
    await site.set("sensor.temperature", "22")

    assert [event["new"] for event in site.fired] == [22]


async def test_lists_of_entities_and_of_states(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: [binary_sensor.door_a, binary_sensor.door_b]
            to: ["on", "open"]
    """ + REPORT, states={"binary_sensor.door_a": "off", "binary_sensor.door_b": "off"})

    await site.set("binary_sensor.door_b", "open")
    await site.set("binary_sensor.door_a", "on")
    await site.set("binary_sensor.door_c", "on")
    await site.set("binary_sensor.door_a", "closed")

    assert [(event["entity"], event["new"]) for event in site.fired] == [
        ("binary_sensor.door_b", "open"), ("binary_sensor.door_a", "on"),
    ]


async def test_entity_id_as_comma_separated_string(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: switch.a, switch.b
            to: "on"
    """ + REPORT, states={"switch.a": "off", "switch.b": "off"})

    await site.set("switch.b", "on")

    assert [event["entity"] for event in site.fired] == ["switch.b"]


async def test_not_from_and_not_to(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: back_online
        triggers:
          - trigger: state
            entity_id: sensor.meter
            not_from: [unavailable, unknown]
            not_to: [unavailable, unknown]
    """ + REPORT, states={"sensor.meter": "unavailable"})

    await site.set("sensor.meter", "12")   # from unavailable: no
    await site.set("sensor.meter", "13")   # yes
    await site.set("sensor.meter", "unknown")  # to unknown: no
    await site.set("sensor.meter", "14")   # from unknown: no
    await site.set("sensor.meter", "15")   # yes

    assert [(event["old"], event["new"]) for event in site.fired] == [(12, 13), (14, 15)]


async def test_a_new_entity_appearing_fires_from_none(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: sensor.new_meter
            to: "5"
    """ + REPORT)

    await site.set("sensor.new_meter", "5")

    assert [(event["old"], event["new"]) for event in site.fired] == [("none", 5)]


async def test_attribute_fires_only_when_that_attribute_changes(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: climate.oven
            attribute: setpoint
            to: 180
        actions:
          - event: fired
            event_data:
              id: setpoint
              value: "{{ trigger.to_state.attributes.setpoint }}"
      - triggers:
          - trigger: state
            entity_id: climate.oven
            attribute: mode
    """ + REPORT)
    await site.set("climate.oven", "heating", {"mode": "auto", "setpoint": 170})
    site.fired.clear()

    await site.set("climate.oven", "idle", {"mode": "auto", "setpoint": 170})
    await site.set("climate.oven", "idle", {"mode": "manual", "setpoint": 170})
    await site.set("climate.oven", "idle", {"mode": "manual", "setpoint": 180})
    await site.set("climate.oven", "heating", {"mode": "manual", "setpoint": 180})

    assert [event["id"] for event in site.fired] == [0, "setpoint"]  # mode, then setpoint
    assert site.fired[0]["new"] == "idle"
    assert site.fired[1]["value"] == 180


async def test_for_fires_after_the_state_has_held(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: binary_sensor.door
            to: "on"
            for: "00:05:00"
    """ + REPORT, states={"binary_sensor.door": "off"})

    await site.set("binary_sensor.door", "on")
    await site.advance(299)
    assert site.fired == []
    await site.set("binary_sensor.door", "on", {"battery": 80})  # same state: keeps waiting
    await site.advance(1)

    assert [event["new"] for event in site.fired] == ["on"]
    assert site.fired[0]["for"] == "0:05:00"


async def test_for_is_cancelled_when_the_state_changes_back(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: binary_sensor.door
            to: "on"
            for: {minutes: 5}
    """ + REPORT, states={"binary_sensor.door": "off"})

    await site.set("binary_sensor.door", "on")
    await site.advance(200)
    await site.set("binary_sensor.door", "off")
    await site.advance(200)
    await site.set("binary_sensor.door", "on")
    await site.advance(200)
    assert site.fired == []  # only 200 s since it opened again

    await site.advance(100)
    assert len(site.fired) == 1


async def test_for_waits_per_entity(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: parallel
        triggers:
          - trigger: state
            entity_id: [binary_sensor.a, binary_sensor.b]
            to: "on"
            for: 60
    """ + REPORT, states={"binary_sensor.a": "off", "binary_sensor.b": "off"})

    await site.set("binary_sensor.a", "on")
    await site.advance(30)
    await site.set("binary_sensor.b", "on")
    await site.advance(30)
    assert [event["entity"] for event in site.fired] == ["binary_sensor.a"]
    await site.advance(30)
    assert [event["entity"] for event in site.fired] == ["binary_sensor.a", "binary_sensor.b"]


async def test_for_as_template_uses_the_trigger(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: sensor.mode
            to: ~
            for:
              seconds: "{{ 10 if trigger.to_state.state == 'fast' else 100 }}"
    """ + REPORT, states={"sensor.mode": "idle"})

    await site.set("sensor.mode", "fast")
    await site.advance(10)

    assert [event["new"] for event in site.fired] == ["fast"]


async def test_for_without_to_waits_on_any_new_state(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers:
          - trigger: state
            entity_id: sensor.mode
            for: 30
    """ + REPORT, states={"sensor.mode": "a"})

    await site.set("sensor.mode", "b")
    await site.advance(20)
    await site.set("sensor.mode", "c")  # a new value starts a new wait
    await site.advance(20)
    assert site.fired == []
    await site.advance(10)

    assert [event["new"] for event in site.fired] == ["c"]
