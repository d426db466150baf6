"""The `speaker:` block: broken speakers are reported with file and line and left out."""

from __future__ import annotations

import pytest

from plantpulse.integrations.speaker.errors import SpeakerError
from tests.conftest import HubFactory
from tests.integrations.speaker.conftest import broadcaster


async def test_broken_speakers_are_dropped_with_their_line(hub_factory: HubFactory) -> None:
    hub = await hub_factory("""
        speaker:
          rate: fast
          speakers:
            - name: workshop
              device: "null"
            - name: workshop
              device: hw:1
            - name: gate
              type: http
            - name: both
              type: http
              upload_url: http://10.0.0.31/play
              play_url: http://10.0.0.31/play?url={{ url }}
            - name: local_with_url
              upload_url: http://10.0.0.31/play
            - name: no_user
              type: http
              upload_url: http://10.0.0.31/play
              password: secret
            - name: loud
              volume: 130
            - name: hall
              type: http
              upload_url: "http://10.0.0.32/play?vol={{ volume }}"
    """)
    assert list(broadcaster(hub).speakers) == ["workshop", "hall"]
    assert broadcaster(hub).speakers["workshop"].device == "null"  # type: ignore[attr-defined]
    assert broadcaster(hub).tts.prosody.rate == 175  # the default replaces the bad value
    issues = {issue.line: issue.message for issue in hub.config_issues}
    expected = {
        3: "expected int for 'rate'",
        7: "another speaker is already called 'workshop'",
        9: "an http speaker needs exactly one of upload_url (the hub sends the WAV) and "
           "play_url (the speaker fetches it from the hub)",
        11: "an http speaker needs exactly one of upload_url",
        15: "upload_url only apply to `type: http` speakers",
        17: "password needs a username (HTTP basic authentication)",
        22: "must be from 0 to 100 (%) for 'volume'",
    }
    assert set(issues) == set(expected)
    for line, start in expected.items():
        assert issues[line].startswith(start), issues[line]
    assert all(issue.file == "configuration.yaml" for issue in hub.config_issues)


async def test_a_list_without_speakers_says_so_when_asked_to_speak(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory("speaker:\n  speakers: []\n")
    with pytest.raises(SpeakerError, match="No speakers are configured"):
        await broadcaster(hub).async_say("测试")


async def test_the_service_is_described(hub_factory: HubFactory) -> None:
    hub = await hub_factory("speaker:\n")
    service = hub.services.get("speaker", "say").as_dict()
    assert set(service["fields"]) == {"message", "target", "language", "volume", "repeat"}
    assert service["fields"]["message"]["required"]
    assert service["response"] == {"optional": True}
