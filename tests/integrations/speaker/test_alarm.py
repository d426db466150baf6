"""With the alarm integration running, a speaker that fails raises a warning alarm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import plantpulse
from tests.conftest import HubFactory
from tests.integrations.speaker.conftest import Receiver, broadcaster

pytestmark = [
    pytest.mark.usefixtures("espeak"),
    pytest.mark.skipif(
        not (Path(plantpulse.__file__).parent / "integrations" / "alarm" / "manifest.yaml")
        .exists(), reason="the alarm integration is not in this tree",
    ),
]


async def test_a_failing_speaker_raises_a_warning_alarm_cleared_when_it_plays_again(
    hub_factory: HubFactory, receiver_factory: Any
) -> None:
    amplifier = {"on": False}

    async def gate_speaker(request: web.Request, receiver: Receiver) -> web.Response:
        await request.read()
        return web.Response() if amplifier["on"] else web.Response(status=503, text="standby")

    receiver = await receiver_factory(gate_speaker)
    hub = await hub_factory(f"""
        alarm:
        speaker:
          speakers:
            - name: gate
              type: http
              upload_url: {receiver.url('/play')}
    """)
    say = broadcaster(hub).async_say
    await say("一号线停机")
    alarms = hub.data["alarm"]
    alarm = alarms.get("speaker_gate_delivery")
    assert alarm is not None and alarm.severity == "warning"
    assert alarm.messages["en"] == (
        "Speaker gate could not play an announcement: Speaker gate answered 503 Service "
        f"Unavailable to POST {receiver.url('/play')}: standby"
    )
    assert alarm.messages["zh-CN"].startswith("广播音箱 gate 播放失败：")
    assert alarm.data == {"speaker": "gate", "announcement": "一号线停机"}

    amplifier["on"] = True
    assert not (await say("一号线恢复")).failed
    assert alarms.get("speaker_gate_delivery") is None
