"""The `script:` block: includes and packages, problems reported with file and line while the
other scripts load, and `script.reload`."""

from __future__ import annotations

import asyncio

import pytest

from plantpulse.core.config.errors import ConfigIssue
from plantpulse.core.exceptions import ServiceNotFound, ServiceValidationError
from tests.integrations.script.conftest import PlantFactory

SCRIPTS_YAML = """\
notify_shift_lead:
  alias: Notify the shift lead
  sequence:
    - event: fired
      event_data: {message: notified}
start_pump:
  sequence:
    action: script.notify_shift_lead
"""


def script_issues(issues: list[ConfigIssue]) -> list[tuple[str | None, int | None, str]]:
    """(file, line, message) of the script block's problems."""
    return [(issue.file, issue.line, issue.message) for issue in issues
            if issue.domain == "script"]


async def test_scripts_from_an_include_and_from_packages(plant: PlantFactory) -> None:
    site = await plant("""
plantpulse:
  packages:
    utilities:
      script:
        vent_hall:
          sequence:
            - event: fired
              event_data: {message: venting}
script: !include scripts.yaml
""", extra_files={"scripts.yaml": SCRIPTS_YAML})

    assert {state.entity_id for state in site.hub.states.all("script")} == {
        "script.notify_shift_lead", "script.start_pump", "script.vent_hall"}
    await site.call("script.start_pump")  # a single action without a list
    await site.call("script.vent_hall")
    assert site.messages() == ["notified", "venting"]
    assert site.attributes("script.notify_shift_lead")["friendly_name"] == \
        "Notify the shift lead"


async def test_broken_scripts_are_reported_with_file_and_line_and_the_rest_load(
    plant: PlantFactory,
) -> None:
    site = await plant("script: !include scripts.yaml\n", extra_files={"scripts.yaml": """\
good:
  sequence:
    - event: fired
      event_data: {message: good}
unknown_selector:
  fields:
    line:
      selector:
        colour: {}
  sequence:
    - event: fired
no_sequence:
  alias: Forgot the steps
bad_action:
  sequence:
    - event: fired
    - delay: soon
Bad-Id:
  sequence:
    - event: fired
reload:
  sequence:
    - event: fired
bad_default:
  fields:
    minutes:
      default: lots
      selector: {number: {}}
  sequence:
    - event: fired
"""})

    issues = script_issues(site.hub.config_issues)
    assert ("scripts.yaml", 8, "unknown selector 'colour' (use one of entity, number, time, "
            "text, target, boolean, select, duration, object, action, template) "
            "for 'selector'") in issues
    assert ("scripts.yaml", 5, "script not loaded (its error on line 8 must be fixed first) "
            "for 'unknown_selector'") in issues
    assert ("scripts.yaml", 12, "required key 'sequence' is missing") in issues
    assert any(issue[:2] == ("scripts.yaml", 17) and "'delay'" in issue[2]
               for issue in issues), issues
    assert any(issue[:2] == ("scripts.yaml", 18) and "invalid script id" in issue[2]
               and "'Bad-Id'" in issue[2]
               for issue in issues), issues
    assert any(issue[:2] == ("scripts.yaml", 21) and "script.reload is a service" in issue[2]
               for issue in issues), issues
    assert any(issue[:2] == ("scripts.yaml", 27) and "the default does not fit" in issue[2]
               for issue in issues), issues
    assert [state.entity_id for state in site.hub.states.all("script")] == ["script.good"]
    await site.call("script.good")
    assert site.messages() == ["good"]


async def test_a_broken_action_given_without_a_list_is_located(plant: PlantFactory) -> None:
    site = await plant("""
script:
  single_step:
    sequence:
      delay: soon
  fine:
    sequence: {event: fired}
""")

    issues = script_issues(site.hub.config_issues)
    assert len(issues) == 2, issues
    assert issues[0] == ("configuration.yaml", 5, "expected a time period such as 30, "
                         "'00:05:00' or {minutes: 5} for 'delay' (got 'soon')")
    assert [state.entity_id for state in site.hub.states.all("script")] == ["script.fine"]


async def test_reload_rereads_the_yaml_and_keeps_unchanged_scripts_running(
    plant: PlantFactory,
) -> None:
    site = await plant("script: !include scripts.yaml\n", extra_files={"scripts.yaml": """\
long_run:
  sequence:
    - delay: 60
    - event: fired
      event_data: {message: long run finished}
to_change:
  sequence:
    - event: fired
      event_data: {message: old}
to_remove:
  sequence:
    - event: fired
"""})
    running = asyncio.ensure_future(site.call("script.long_run"))
    await site.advance(1)

    (site.hub.config_dir / "scripts.yaml").write_text("""\
long_run:
  sequence:
    - delay: 60
    - event: fired
      event_data: {message: long run finished}
to_change:
  sequence:
    - event: fired
      event_data: {message: new}
added:
  fields:
    line: {required: true}
  sequence:
    - event: fired
      event_data: {message: "added {{ line }}"}
broken:
  sequence:
    - delay: soon
""", encoding="utf-8")
    await site.call("script.reload")

    assert site.state("script.long_run") == "on"
    assert site.state("script.to_remove") is None
    with pytest.raises(ServiceNotFound):
        await site.call("script.to_remove")
    await site.call("script.to_change")
    await site.call("script.added", {"line": "press"})
    assert site.messages() == ["new", "added press"]
    shown = {item.notification_id: item.message for item in site.hub.notifications.all()}
    assert "scripts.yaml, line 18" in shown["invalid_config_script"]
    await site.advance(60)
    await running
    assert site.messages()[-1] == "long run finished"


async def test_reload_of_a_block_broken_at_its_root_changes_nothing(
    plant: PlantFactory,
) -> None:
    site = await plant("script: !include scripts.yaml\n", extra_files={"scripts.yaml": """\
keep_me:
  sequence:
    - event: fired
"""})

    (site.hub.config_dir / "scripts.yaml").write_text("- not: a mapping\n", encoding="utf-8")
    with pytest.raises(ServiceValidationError, match="nothing was changed"):
        await site.call("script.reload")
    assert site.state("script.keep_me") == "off"
