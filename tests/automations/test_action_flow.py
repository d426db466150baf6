"""Control flow: `choose`, `if`, `repeat`, `variables` and their scopes, `parallel`,
`sequence`, `stop` and `condition` as an action."""

from __future__ import annotations

from tests.automations.conftest import PlantFactory
from tests.automations.test_action_service import last_trace

CHOOSE = """
    automation:
      - id: grade
        triggers:
          - trigger: state
            entity_id: sensor.line_load
        actions:
          - choose:
              - conditions:
                  - condition: numeric_state
                    entity_id: sensor.line_load
                    above: 60
                sequence:
                  - event: fired
                    event_data: {id: critical}
              - conditions: "{{ trigger.to_state.state | float > 40 }}"
                sequence:
                  - event: fired
                    event_data: {id: high}
            %s
          - event: fired
            event_data: {id: done}
"""


async def test_choose_takes_the_first_option_that_holds(plant: PlantFactory) -> None:
    site = await plant(CHOOSE % "default: [{event: fired, event_data: {id: normal}}]",
                       states={"sensor.line_load": "10"})

    await site.set("sensor.line_load", "70")
    await site.set("sensor.line_load", "45")
    await site.set("sensor.line_load", "20")

    assert site.ids() == ["critical", "done", "high", "done", "normal", "done"]
    assert last_trace(site, "grade")["trace"]["action/0"][0]["result"] == {
        "choice": "default"}


async def test_choose_without_default_does_nothing_and_goes_on(plant: PlantFactory) -> None:
    site = await plant(CHOOSE % "", states={"sensor.line_load": "10"})

    await site.set("sensor.line_load", "20")

    assert site.ids() == ["done"]


IF_THEN = """
    automation:
      - id: shift
        triggers: [{trigger: event, event_type: go}]
        actions:
          - if:
              - condition: state
                entity_id: input_boolean.night_shift
                state: "on"
              - "{{ trigger.event.data.load > 40 }}"
            then:
              - event: fired
                event_data: {id: "then {{ trigger.event.data.load }}"}
            %s
"""


async def test_if_then_else(plant: PlantFactory) -> None:
    site = await plant(IF_THEN % "else: [{event: fired, event_data: {id: else}}]",
                       states={"input_boolean.night_shift": "on"})

    site.hub.bus.async_fire("go", {"load": 42})
    site.hub.bus.async_fire("go", {"load": 12})
    await site.set("input_boolean.night_shift", "off")
    site.hub.bus.async_fire("go", {"load": 42})
    await site.hub.async_block_till_done()

    assert site.ids() == ["then 42", "else", "else"]
    trace = last_trace(site, "shift")["trace"]
    assert trace["action/0"][0]["result"] == {"choice": "else"}
    assert "action/0/else/0" in trace


async def test_if_without_else_does_nothing_when_false(plant: PlantFactory) -> None:
    site = await plant(IF_THEN % "", states={"input_boolean.night_shift": "off"})

    site.hub.bus.async_fire("go", {"load": 42})
    await site.hub.async_block_till_done()

    assert site.fired == []
    assert last_trace(site, "shift")["script_execution"] == "finished"


async def test_repeat_count_with_index_first_and_last(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - repeat:
              count: "{{ trigger.event.data.times }}"
              sequence:
                - event: fired
                  event_data:
                    id: "{{ repeat.index }}"
                    first: "{{ repeat.first }}"
                    last: "{{ repeat.last }}"
    """)

    site.hub.bus.async_fire("go", {"times": 3})
    site.hub.bus.async_fire("go", {"times": 0})
    await site.hub.async_block_till_done()

    assert site.fired == [{"id": 1, "first": True, "last": False},
                          {"id": 2, "first": False, "last": False},
                          {"id": 3, "first": False, "last": True}]


async def test_repeat_for_each_over_a_list_and_a_template(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - repeat:
              for_each: [press, "{{ 'lathe' }}", {name: mill}]
              sequence:
                - event: fired
                  event_data: {id: "{{ repeat.item }}", index: "{{ repeat.index }}"}
          - repeat:
              for_each: "{{ trigger.event.data.lines }}"
              sequence:
                - event: fired
                  event_data: {id: "line {{ repeat.item }}", last: "{{ repeat.last }}"}
    """)

    site.hub.bus.async_fire("go", {"lines": ["A", "B"]})
    await site.hub.async_block_till_done()

    assert site.fired == [
        {"id": "press", "index": 1}, {"id": "lathe", "index": 2},
        {"id": {"name": "mill"}, "index": 3},
        {"id": "line A", "last": False}, {"id": "line B", "last": True},
    ]


async def test_repeat_while_checks_before_and_until_after_each_pass(
    plant: PlantFactory,
) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - repeat:
              while: "{{ repeat.index <= states('counter.pass') | int }}"
              sequence:
                - event: fired
                  event_data: {id: "while {{ repeat.index }}"}
          - repeat:
              until:
                - condition: template
                  value_template: "{{ repeat.index >= 2 }}"
              sequence:
                - event: fired
                  event_data: {id: "until {{ repeat.index }}"}
    """, states={"counter.pass": "0"})

    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()
    assert site.ids() == ["until 1", "until 2"]

    site.fired.clear()
    await site.set("counter.pass", "2")
    site.hub.bus.async_fire("go", {})
    await site.hub.async_block_till_done()
    assert site.ids() == ["while 1", "while 2", "until 1", "until 2"]


async def test_repeat_with_a_delay_in_each_pass(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - repeat:
              count: 3
              sequence:
                - delay: 10
                - event: fired
                  event_data: {id: "{{ repeat.index }}"}
    """)

    site.hub.bus.async_fire("go", {})
    await site.advance(25)
    assert site.ids() == [1, 2]
    await site.advance(5)
    assert site.ids() == [1, 2, 3]


async def test_a_long_repeat_without_waiting_finishes(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: many
        triggers: [{trigger: event, event_type: go}]
        actions:
          - repeat:
              count: 250
              sequence:
                - variables: {n: "{{ repeat.index }}"}
          - event: fired
            event_data: {id: done}
    """)

    site.hub.bus.async_fire("go", {})
    await site.advance(0)

    assert site.ids() == ["done"]
    assert last_trace(site, "many")["script_execution"] == "finished"


async def test_variables_scopes(plant: PlantFactory) -> None:
    # Home Assistant's rule (since 2025.4): a `variables` action changes the variable where it
    # is defined, else defines it for the whole run, so what an if/then, choose or repeat
    # sets is seen after it; only `repeat` itself stays inside its loop. Automation variables
    # see the trigger and each other.
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        variables:
          limit: "{{ trigger.event.data.limit }}"
          doubled: "{{ limit * 2 }}"
        actions:
          - variables:
              level: outer
              shown: "{{ level }} {{ doubled }}"
          - event: fired
            event_data: {id: "{{ shown }}"}
          - if: "{{ true }}"
            then:
              - variables: {level: inner, made_inside: yes}
              - sequence:
                  - event: fired
                    event_data: {id: "nested sees {{ level }}"}
          - event: fired
            event_data: {id: "after if {{ level }} {{ made_inside }}"}
          - repeat:
              count: 2
              sequence:
                - variables:
                    total: "{{ (total | default(0)) + repeat.index }}"
                - repeat:
                    for_each: [x]
                    sequence:
                      - variables: {inner_index: "{{ repeat.index }}"}
                - event: fired
                  event_data: {id: "pass {{ repeat.index }}"}
          - event: fired
            event_data:
              id: "total {{ total }} {{ inner_index }} {{ repeat is defined }}"
    """)

    site.hub.bus.async_fire("go", {"limit": 21})
    await site.hub.async_block_till_done()

    assert site.ids() == ["outer 42", "nested sees inner", "after if inner True", "pass 1",
                          "pass 2", "total 3 1 False"]


async def test_runs_do_not_share_variables(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: parallel
        triggers: [{trigger: event, event_type: go}]
        actions:
          - if: "{{ trigger.event.data.n == 1 }}"
            then:
              - variables: {mark: first}
          - delay: 1
          - event: fired
            event_data: {id: "{{ trigger.event.data.n }} {{ mark | default('none') }}"}
    """)

    site.hub.bus.async_fire("go", {"n": 1})
    site.hub.bus.async_fire("go", {"n": 2})
    await site.advance(1)

    assert site.ids() == ["1 first", "2 none"]


async def test_parallel_branches_keep_their_own_wait(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - parallel:
              - sequence:
                  - wait_for_trigger: [{trigger: event, event_type: ack_a}]
                    timeout: 10
                  - variables: {a_done: "{{ wait.trigger is not none }}"}
                  - event: fired
                    event_data: {id: "a {{ wait.remaining }}"}
              - sequence:
                  - wait_for_trigger: [{trigger: event, event_type: ack_b}]
                    timeout: 10
                  - event: fired
                    event_data: {id: "b {{ wait.remaining }}"}
          - event: fired
            event_data: {id: "joined {{ a_done }} {{ wait is defined }}"}
    """)

    site.hub.bus.async_fire("go", {})
    await site.advance(2)
    site.hub.bus.async_fire("ack_a", {})
    await site.advance(3)
    site.hub.bus.async_fire("ack_b", {})
    await site.advance(0)

    assert site.ids() == ["a 8.0", "b 5.0", "joined True False"]


async def test_parallel_branches_run_at_once(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: both
        triggers: [{trigger: event, event_type: go}]
        actions:
          - parallel:
              - sequence:
                  - delay: 10
                  - event: fired
                    event_data: {id: slow}
              - sequence:
                  - delay: 3
                  - event: fired
                    event_data: {id: quick}
              - event: fired
                event_data: {id: now}
          - event: fired
            event_data: {id: joined}
    """)

    site.hub.bus.async_fire("go", {})
    await site.advance(3)
    assert site.ids() == ["now", "quick"]
    await site.advance(7)

    assert site.ids() == ["now", "quick", "slow", "joined"]
    trace = last_trace(site, "both")["trace"]
    assert {"action/0/parallel/0/sequence/1", "action/0/parallel/1/sequence/1",
            "action/0/parallel/2/sequence/0", "action/1"} <= set(trace)


async def test_a_failing_parallel_branch_fails_the_run(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: both
        triggers: [{trigger: event, event_type: go}]
        actions:
          - parallel:
              - sequence:
                  - delay: 1
                  - action: test.missing
              - sequence:
                  - event: fired
                    event_data: {id: other}
          - event: fired
            event_data: {id: joined}
    """)

    site.hub.bus.async_fire("go", {})
    await site.advance(1)

    assert site.ids() == ["other"]
    trace = last_trace(site, "both")
    assert trace["script_execution"] == "error"
    assert "test.missing" in trace["trace"]["action/0/parallel/0/sequence/1"][0]["error"]


async def test_stop_ends_the_run_quietly_or_as_an_error(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: stops
        triggers: [{trigger: event, event_type: go}]
        actions:
          - event: fired
            event_data: {id: before}
          - if: "{{ trigger.event.data.broken }}"
            then:
              - stop: Line is broken
                error: true
            else:
              - stop: Nothing to do
          - event: fired
            event_data: {id: never}
    """)

    site.hub.bus.async_fire("go", {"broken": False})
    await site.hub.async_block_till_done()
    quiet = last_trace(site, "stops")
    site.hub.bus.async_fire("go", {"broken": True})
    await site.hub.async_block_till_done()
    failed = last_trace(site, "stops")

    assert site.ids() == ["before", "before"]
    assert quiet["script_execution"] == "finished" and "error" not in quiet
    assert quiet["trace"]["action/1/else/0"][0]["result"] == {
        "stop": "Nothing to do", "error": False}
    assert failed["script_execution"] == "error"
    assert failed["error"] == "Line is broken"


async def test_condition_as_an_action_stops_quietly_when_false(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: gate
        triggers: [{trigger: event, event_type: go}]
        actions:
          - event: fired
            event_data: {id: first}
          - condition: state
            entity_id: input_boolean.production
            state: "on"
          - condition: "{{ trigger.event.data.load > 40 }}"
          - event: fired
            event_data: {id: second}
    """, states={"input_boolean.production": "on"})

    site.hub.bus.async_fire("go", {"load": 42})
    site.hub.bus.async_fire("go", {"load": 12})
    await site.hub.async_block_till_done()

    assert site.ids() == ["first", "second", "first"]
    trace = last_trace(site, "gate")
    assert trace["script_execution"] == "aborted"
    assert "error" not in trace
    assert trace["trace"]["action/2"][0]["result"] == {"result": False}


async def test_condition_action_with_and_or_not(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - triggers: [{trigger: event, event_type: go}]
        actions:
          - condition: or
            conditions:
              - condition: template
                value_template: "{{ trigger.event.data.n == 1 }}"
              - condition: not
                conditions:
                  - "{{ trigger.event.data.n < 10 }}"
          - event: fired
            event_data: {id: "{{ trigger.event.data.n }}"}
    """)

    for number in (1, 5, 12):
        site.hub.bus.async_fire("go", {"n": number})
    await site.hub.async_block_till_done()

    assert site.ids() == [1, 12]
