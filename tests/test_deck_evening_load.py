"""The deck's case end to end: "if line load > 40 kW after 17:00 → notify", as a user writes it.

The demo plant's anodizing line keeps its auxiliaries on at about 42 kW from 17:00 to 23:00
after production stops. The automation is the YAML of the README; the e-mail goes through the
notify integration (apprise) to a real SMTP server on loopback; plant time is a ManualClock.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plantpulse.core.bootstrap import BUNDLED_CONFIG
from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory, free_port
from tests.integrations.notify.servers import SmtpServer, body_text

LINE_LOAD = "sensor.yang_ji_yang_hua_xian_gong_lv"
MONDAY_1630 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)  # 16:30 in Asia/Shanghai

EVENING_LOAD = """
- id: anodizing_line_evening_load
  alias: 阳极氧化线晚间负荷过高
  description: After 17:00 the line should be nearly off; 40 kW means something is left on.
  mode: single
  triggers:
    - trigger: time
      at: "17:45:00"  # production ends at 17:00; the line takes half an hour to wind down
    - trigger: numeric_state
      entity_id: sensor.yang_ji_yang_hua_xian_gong_lv
      above: 40
      for: "00:15:00"
  conditions:
    - condition: time
      after: "17:00:00"
    - condition: numeric_state
      entity_id: sensor.yang_ji_yang_hua_xian_gong_lv
      above: 40
  actions:
    - action: notify.ops_email
      data:
        title: 阳极氧化线 17:00 后负荷过高
        message: >-
          阳极氧化线当前负荷 {{ states('sensor.yang_ji_yang_hua_xian_gong_lv') }} kW，
          17:00 后超过 40 kW。Anodizing line at
          {{ states('sensor.yang_ji_yang_hua_xian_gong_lv') }} kW after 17:00.
"""


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    """A plain SMTP server with one account, listening on 127.0.0.1."""
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


async def _advance_to(hub: Hub, clock: ManualClock, moment: datetime) -> None:
    """Move plant time in one-minute steps, as the demo plant updates each minute, and wait
    for the e-mails this caused (sent from a worker thread)."""
    while clock.now() < moment:
        await clock.advance(60)
    await hub.async_block_till_done()


async def test_evening_load_of_the_demo_plant_is_mailed(
    hub_factory: HubFactory, smtp: SmtpServer
) -> None:
    clock = ManualClock(MONDAY_1630)
    hub = await hub_factory(
        "demo:\n  update_interval: 60\n  history_days: 0\n"
        f"notify:\n  - name: ops_email\n    urls: ['{smtp.url('shift-lead@plant.example')}']\n"
        "automation: !include automations.yaml\n",
        extra_files={"automations.yaml": EVENING_LOAD},
        clock=clock,
    )
    start = MONDAY_1630

    await _advance_to(hub, clock, start + timedelta(minutes=29))  # 16:59, the line in production
    assert float(hub.states.get(LINE_LOAD).state) > 100
    assert smtp.messages == []

    await _advance_to(hub, clock, start + timedelta(minutes=74))  # 17:44, winding down
    assert smtp.messages == []

    await _advance_to(hub, clock, start + timedelta(minutes=76))  # 17:46
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "shift-lead@plant.example"
    assert "17:00 后负荷过高" in str(mail["Subject"])
    [reported] = re.findall(r"当前负荷 ([\d.]+) kW", body_text(mail))
    assert 39 <= float(reported) <= 45

    # It stays at about 42 kW until 23:00 without crossing 40 again: one mail is enough.
    await _advance_to(hub, clock, start + timedelta(hours=10))  # 02:30: the auxiliaries off
    assert len(smtp.messages) == 1
    assert 0 <= float(hub.states.get(LINE_LOAD).state) < 40
    automation = hub.states.get("automation.yang_ji_yang_hua_xian_wan_jian_fu_he_guo_gao")
    assert automation is not None and automation.state == "on"
    assert automation.attributes["last_triggered"] is not None


async def test_the_bundled_demo_config_raises_and_clears_the_evening_alarm(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    config_dir = tmp_path / "bundled"
    shutil.copytree(BUNDLED_CONFIG, config_dir)
    configuration = config_dir / "configuration.yaml"
    http = f"\nhttp:\n  server_host: 127.0.0.1\n  server_port: {free_port()}\n"
    text = (configuration.read_text(encoding="utf-8")
            .replace("\nhttp:\n", http)
            # The demo's pace, not what is tested here: one update a minute, no back-fill.
            .replace("update_interval: 2\n", "update_interval: 60\n")
            .replace("history_days: 2\n", "history_days: 0\n"))
    assert "update_interval: 60" in text and "history_days: 0" in text
    clock = ManualClock(MONDAY_1630)
    hub = await hub_factory(text, config_dir=config_dir, clock=clock)
    assert hub.config_issues == []
    alarm = "alarm.anodizing_line_evening_load"

    await _advance_to(hub, clock, MONDAY_1630 + timedelta(minutes=74))  # 17:44
    assert hub.states.get(alarm) is None
    await _advance_to(hub, clock, MONDAY_1630 + timedelta(minutes=76))  # 17:46
    raised = hub.states.get(alarm)
    assert raised is not None and raised.state == "active"
    assert raised.attributes["severity"] == "minor"
    assert "阳极氧化线 17:00 后负荷 4" in raised.attributes["messages"]["zh-CN"]

    await _advance_to(hub, clock, MONDAY_1630 + timedelta(hours=7, minutes=30))  # 00:00
    assert hub.states.get(alarm) is None
    assert hub.states.get("sensor.active_alarms").state == "0"
