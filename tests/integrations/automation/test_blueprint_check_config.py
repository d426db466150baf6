"""`plantpulse check-config` reports wrong blueprint uses as the hub's setup would."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import write_config
from tests.core.test_cli import plantpulse

AUTOMATIONS = """
- id: evening_load
  use_blueprint:
    path: plantpulse/off_hours_base_load.yaml
    input:
      power_sensor: sensor.line_load
      threshold: -5
- id: missing_file
  use_blueprint:
    path: plantpulse/nope.yaml
    input: {}
- id: fine
  triggers:
    - trigger: state
      entity_id: sensor.line_load
  actions:
    - event: changed
"""


def test_check_config_names_wrong_blueprint_inputs_and_files(tmp_path: Path) -> None:
    write_config(tmp_path, "automation: !include automations.yaml\n",
                 {"automations.yaml": AUTOMATIONS})
    result = plantpulse("check-config", "--config", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("Invalid config")]
    assert len(lines) == 2, result.stdout
    assert "(automations.yaml, line 7)" in lines[0] and "-5 is below the minimum 0" in lines[0]
    assert "(automations.yaml, line 10)" in lines[1] and "plantpulse/nope.yaml" in lines[1]
