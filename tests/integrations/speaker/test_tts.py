"""Real espeak-ng speech: plausible length, not silent, the pinyin voice, the phrase cache."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from plantpulse.core.hub import Hub
from plantpulse.integrations.speaker.cache import WavCache
from plantpulse.integrations.speaker.const import VOICE_PINYIN, VOICE_PLAIN_MANDARIN, Language
from plantpulse.integrations.speaker.errors import SpeakerError
from plantpulse.integrations.speaker.espeak import EspeakEngine, Prosody
from plantpulse.integrations.speaker.script import build_script
from plantpulse.integrations.speaker.tts import TextToSpeech
from tests.conftest import LoopStallMeter
from tests.integrations.speaker.conftest import EN_PHRASE, SILENCE_RMS, ZH_PHRASE, wav_stats

pytestmark = pytest.mark.usefixtures("espeak")

PROSODY = Prosody(rate=175, pitch=50)


async def make_tts(hub: Hub, cache_mb: float = 10, engine: EspeakEngine | None = None
                   ) -> TextToSpeech:
    cache = WavCache(hub, hub.path(".cache", "tts"), int(cache_mb * 1024 * 1024))
    tts = TextToSpeech(hub, engine or EspeakEngine(), cache, PROSODY)
    await tts.async_setup()
    return tts


async def test_chinese_phrase_is_speech_of_plausible_length(hub: Hub) -> None:
    speech = await (await make_tts(hub)).async_speak(ZH_PHRASE, Language.ZH_CN)
    stats = wav_stats(speech.path)
    # 15 syllables; measured 4.4 s at 175 words a minute.
    assert 3.0 < stats.duration < 6.0
    assert stats.rms > SILENCE_RMS
    assert speech.duration == pytest.approx(stats.duration)
    assert stats.channels == 1 and stats.frame_rate == 22050
    assert not speech.cached


async def test_english_phrase_is_speech_of_plausible_length(hub: Hub) -> None:
    speech = await (await make_tts(hub)).async_speak(EN_PHRASE, Language.EN)
    stats = wav_stats(speech.path)
    # Ten words; measured 3.1 s.
    assert 2.0 < stats.duration < 4.5
    assert stats.rms > SILENCE_RMS


async def test_speech_has_pauses_like_speech_not_a_constant_tone(hub: Hub) -> None:
    stats = wav_stats((await (await make_tts(hub)).async_speak(ZH_PHRASE, Language.ZH_CN)).path)
    window = stats.frame_rate // 50  # 20 ms
    frames = stats.samples[: len(stats.samples) // window * window].reshape(-1, window)
    energy = (frames.astype(float) ** 2).mean(axis=1) ** 0.5 / 32768
    loud = energy > SILENCE_RMS
    # Syllables: many switches between louder and quieter stretches.
    assert loud.mean() > 0.5
    assert (loud[1:] != loud[:-1]).sum() >= 6


def phonemes(voice: str, text: str) -> str:
    """espeak-ng's phoneme mnemonics for `text` read by `voice` (`-x`); "(en)" marks English."""
    return subprocess.run(["espeak-ng", "-q", "-x", "-v", voice, "--stdin"], input=text.encode(),
                          check=True, capture_output=True).stdout.decode()


def plain_mandarin_wav(text: str, output: Path) -> None:
    """What the plain `cmn` voice makes of Han text."""
    subprocess.run(["espeak-ng", "-v", VOICE_PLAIN_MANDARIN, "-s", "175", "-w", str(output),
                    "--stdin"], input=text.encode(), check=True)


async def test_pinyin_voice_differs_from_plain_cmn_which_spells_in_english(
    hub: Hub, tmp_path: Path
) -> None:
    text = "一号生产线下班后负荷四十二千瓦"
    ours = wav_stats((await (await make_tts(hub)).async_speak(text, Language.ZH_CN)).path)
    plain_mandarin_wav(text, tmp_path / "plain.wav")
    plain = wav_stats(tmp_path / "plain.wav")
    # Debian's `cmn` dictionary lacks most of these characters and falls back to English
    # letter names (the "(en)" switches); through pinyin every syllable is Mandarin.
    assert "(en)" in phonemes(VOICE_PLAIN_MANDARIN, text)
    pinyin = build_script(text, Language.ZH_CN)
    assert "(en)" not in phonemes(pinyin.voice, pinyin.espeak_input())
    assert abs(ours.duration - plain.duration) > 0.5
    assert not (len(ours.samples) == len(plain.samples) and (ours.samples == plain.samples).all())


def test_the_pinyin_voice_reads_tone_numbers_as_pypinyin_writes_them() -> None:
    # Neutral tone 5 is an unstressed low syllable (`t@22`), tone 1 a stressed high one
    # (`t'@55`); ü written as v is the rounded front vowel `y`; 3-3 becomes 2-3 by itself.
    assert phonemes(VOICE_PINYIN, "ta1 de5 shu1").split("_|")[1].strip() == "t@22"
    assert phonemes(VOICE_PINYIN, "ta1 de1 shu1").split("_|")[1].strip() == "t'@55"
    assert phonemes(VOICE_PINYIN, "lv4").startswith("l'y51")
    assert phonemes(VOICE_PINYIN, "ni3 hao3").startswith("n'i35")


async def test_a_repeated_phrase_comes_from_the_cache_without_espeak(hub: Hub) -> None:
    tts = await make_tts(hub)
    first = await tts.async_speak(ZH_PHRASE, Language.ZH_CN)
    spawned = tts.engine.spawned
    second = await tts.async_speak(ZH_PHRASE, Language.ZH_CN)
    assert second.cached and not first.cached
    assert second.path == first.path
    assert tts.engine.spawned == spawned  # no espeak-ng process for the repeat
    assert first.path.parent == hub.path(".cache", "tts")
    # Another language, rate or text is another file.
    other = await tts.async_speak(EN_PHRASE, Language.EN)
    assert other.path != first.path and tts.engine.spawned == spawned + 1


async def test_the_cache_survives_a_restart(tmp_path: Path) -> None:
    first_hub = Hub(tmp_path)
    first = await (await make_tts(first_hub)).async_speak(ZH_PHRASE, Language.ZH_CN)
    await first_hub.async_stop()
    second_hub = Hub(tmp_path)
    tts = await make_tts(second_hub)
    spawned = tts.engine.spawned  # the version question
    again = await tts.async_speak(ZH_PHRASE, Language.ZH_CN)
    assert again.cached and again.path == first.path and tts.engine.spawned == spawned
    await second_hub.async_stop()


async def test_the_same_phrase_asked_at_once_is_synthesised_once(hub: Hub) -> None:
    tts = await make_tts(hub)
    spawned = tts.engine.spawned
    results = await asyncio.gather(*(
        tts.async_speak("二号线压缩机停机", Language.ZH_CN) for _ in range(5)
    ))
    assert tts.engine.spawned == spawned + 1
    assert len({result.path for result in results}) == 1


async def test_cache_evicts_the_least_recently_used_beyond_its_size(hub: Hub) -> None:
    # Each phrase is 1.7 s, about 75 KB: a 0.2 MB cache holds two.
    tts = await make_tts(hub, cache_mb=0.2)
    first = await tts.async_speak("一号线停机", Language.ZH_CN)
    second = await tts.async_speak("二号线停机", Language.ZH_CN)
    assert (await tts.async_speak("一号线停机", Language.ZH_CN)).cached  # now most recent
    await tts.async_speak("三号线停机", Language.ZH_CN)
    assert 2 * 70_000 < tts.cache.total_bytes <= tts.cache.max_bytes
    assert first.path.exists() and not second.path.exists()
    spawned = tts.engine.spawned
    assert not (await tts.async_speak("二号线停机", Language.ZH_CN)).cached
    assert tts.engine.spawned == spawned + 1


async def test_missing_espeak_is_a_clear_error(hub: Hub) -> None:
    tts = await make_tts(hub, engine=EspeakEngine(executable="/nonexistent/espeak-ng"))
    with pytest.raises(SpeakerError, match="apt-get install espeak-ng"):
        await tts.async_speak(ZH_PHRASE, Language.ZH_CN)


async def test_synthesis_over_its_time_limit_is_stopped(hub: Hub) -> None:
    # 60 sentences take espeak-ng about 0.3 s here; 50 ms is not enough.
    tts = await make_tts(hub, engine=EspeakEngine(timeout=0.05))
    with pytest.raises(SpeakerError, match=r"did not finish within 0\.05 s"):
        await tts.async_speak("一号生产线下班后负荷四十二千瓦。" * 60, Language.ZH_CN)
    assert not list(tts.cache.directory.glob("*.part"))


async def test_the_loop_stays_responsive_while_espeak_works(hub: Hub) -> None:
    tts = await make_tts(hub)
    long_text = "一号生产线下班后负荷四十二千瓦，请值班人员检查。" * 40
    async with LoopStallMeter() as meter:
        speech = await tts.async_speak(long_text, Language.ZH_CN)
    assert speech.duration > 60
    # Synthesis on the loop would stall it for seconds; 0.25 s leaves room for a busy
    # 2-core machine scheduling espeak-ng and the test runner over the loop's thread.
    assert meter.worst < 0.25
