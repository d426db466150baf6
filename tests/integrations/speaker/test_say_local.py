"""`speaker.say` on the hub's own audio: aplay on ALSA's `null` device, which needs no card."""

from __future__ import annotations

import shutil

import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.integrations.speaker.const import Language
from plantpulse.integrations.speaker.errors import SpeakerError
from plantpulse.integrations.speaker.wav import make_clip
from tests.conftest import HubFactory, LoopStallMeter
from tests.integrations.speaker.conftest import EN_PHRASE, ZH_PHRASE, broadcaster, wav_stats

pytestmark = pytest.mark.usefixtures("espeak_and_aplay")

TWO_LOCAL = """
speaker:
  speakers:
    - name: workshop
      device: "null"
    - name: office
      device: "null"
      volume: 60
"""


async def test_say_plays_through_aplay_and_answers_what_happened(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(TWO_LOCAL)
    response = await hub.services.async_call(
        "speaker", "say", {"message": ZH_PHRASE}, return_response=True
    )
    assert response is not None
    assert response["language"] == "zh-CN" and not response["cached"]
    assert 3.0 < response["duration"] < 6.0
    assert response["speakers"] == {
        "workshop": {"ok": True, "device": "null", "exit_code": 0},
        "office": {"ok": True, "device": "null", "exit_code": 0},
    }
    again = await hub.services.async_call(
        "speaker", "say", {"message": ZH_PHRASE, "target": "office"}, return_response=True
    )
    assert again is not None and again["cached"] and list(again["speakers"]) == ["office"]
    # Clips of finished announcements are removed; the phrase stays in the cache.
    assert not list(hub.path(".cache", "tts", "clips").iterdir())


async def test_one_failing_speaker_does_not_stop_another(hub_factory: HubFactory) -> None:
    hub = await hub_factory("""
        speaker:
          speakers:
            - name: broken
              device: no_such_alsa_device
            - name: workshop
              device: "null"
    """)
    announcement = await broadcaster(hub).async_say(EN_PHRASE)
    assert announcement.language == "en"
    assert announcement.failed == ["broken"]
    assert announcement.outcomes["workshop"].ok
    error = announcement.outcomes["broken"].error
    assert error is not None
    assert "no_such_alsa_device" in error and "aplay -L" in error


async def test_service_fails_when_no_speaker_played(hub_factory: HubFactory) -> None:
    hub = await hub_factory("""
        speaker:
          speakers:
            - name: broken
              device: no_such_alsa_device
    """)
    with pytest.raises(SpeakerError, match="No speaker played the message: broken: aplay"):
        await hub.services.async_call("speaker", "say", {"message": "一号线停机"})


async def test_unknown_target_is_refused_before_anything_plays(hub_factory: HubFactory) -> None:
    hub = await hub_factory(TWO_LOCAL)
    refusal = "No speaker called 'gate'; configured: workshop, office"
    with pytest.raises(ServiceValidationError, match=refusal):
        await hub.services.async_call("speaker", "say", {"message": "测试", "target": ["gate"]})
    with pytest.raises(ServiceValidationError, match="volume"):
        await hub.services.async_call("speaker", "say", {"message": "测试", "volume": 150})


async def test_language_given_or_detected(hub_factory: HubFactory) -> None:
    hub = await hub_factory("plantpulse:\n  language: en\n" + TWO_LOCAL)
    say = broadcaster(hub).async_say
    assert (await say("3号线")).language == "zh-CN"  # Han characters
    assert (await say("42 %")).language == "en"  # nothing to tell: the site's language
    assert (await say("42 %", language="zh-CN")).language == "zh-CN"
    response = await hub.services.async_call(
        "speaker", "say", {"message": "42", "language": "zh"}, return_response=True)
    assert response is not None and response["language"] == "zh-CN"


async def test_volume_and_repeat_shape_the_clip(hub_factory: HubFactory) -> None:
    hub = await hub_factory(TWO_LOCAL)
    speech = await broadcaster(hub).tts.async_speak(ZH_PHRASE, Language.ZH_CN)
    clip = hub.path("clip.wav")
    make_clip(speech.path, clip, volume=50, repeat=2, gap=1.0)
    original, twice = wav_stats(speech.path), wav_stats(clip)
    assert twice.duration == pytest.approx(2 * original.duration + 1.0, abs=0.01)
    first_half = twice.samples[: len(original.samples)]
    assert abs(first_half.astype(float) - original.samples / 2).max() <= 1
    response = await hub.services.async_call(
        "speaker", "say", {"message": ZH_PHRASE, "repeat": 2, "volume": 30},
        return_response=True)
    assert response is not None
    assert all(result["ok"] for result in response["speakers"].values())


async def test_empty_block_means_one_local_speaker_on_the_default_device(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory("speaker:\n")
    speakers = broadcaster(hub).speakers
    assert list(speakers) == ["local"]
    local = speakers["local"]
    assert local.kind == "local" and local.device == "default"  # type: ignore[attr-defined]
    assert local.volume == 100
    assert hub.services.get("speaker", "say").supports_response == "optional"


async def test_the_loop_stays_responsive_through_a_long_announcement(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(TWO_LOCAL)
    long_text = "一号生产线下班后负荷42千瓦，请值班人员检查。" * 40
    async with LoopStallMeter() as meter:
        announcement = await broadcaster(hub).async_say(long_text, repeat=2)
    assert not announcement.failed and announcement.duration > 60
    assert meter.worst < 0.05


async def test_a_cache_folder_cleaned_by_hand_is_made_again(hub_factory: HubFactory) -> None:
    hub = await hub_factory(TWO_LOCAL)
    say = broadcaster(hub).async_say
    assert not (await say("三号线停机")).failed
    shutil.rmtree(hub.path(".cache"))
    again = await say("三号线停机")
    assert not again.failed and not again.cached
    assert len(list(hub.path(".cache", "tts").glob("*.wav"))) == 1
