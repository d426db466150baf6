"""A broken template inside a service call's data is named as a template error at its own line."""

from __future__ import annotations

from tests.conftest import HubFactory

AUTOMATIONS = """
- id: broken
  triggers:
    - trigger: event
      event_type: go
  actions:
    - action: alarm.raise
      data:
        key: pump
        severity: minor
        message:
          en: "{{ 1 + }}"
- id: fine
  triggers:
    - trigger: event
      event_type: go
  actions:
    - event: done
"""


async def test_template_error_in_nested_service_data_names_its_line(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory("automation: !include automations.yaml\n",
                            extra_files={"automations.yaml": AUTOMATIONS})
    [issue] = [issue for issue in hub.config_issues if "template" in issue.message]
    assert (issue.file, issue.line) == ("automations.yaml", 12)
    assert "invalid template" in issue.message
    assert "data->message->en" in str(issue)
    assert hub.states.get("automation.fine") is not None
