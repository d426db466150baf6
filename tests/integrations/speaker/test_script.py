"""Messages into espeak-ng input: pinyin with tone numbers, English segments, numbers, units."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.speaker.const import VOICE_ENGLISH, VOICE_PINYIN, Language
from plantpulse.integrations.speaker.script import build_script, detect_language, normalise

ZH = Language.ZH_CN
EN = Language.EN
PINYIN_TEXT = re.compile(r"^[a-z]+[1-5]([,.!?;:]?( [a-z]+[1-5])?)*[,.!?;:]?$")


def pinyin_of(text: str) -> str:
    script = build_script(text, ZH)
    assert [segment.voice for segment in script.segments] == [VOICE_PINYIN]
    return script.espeak_input()


def test_the_brief_sentence_in_pinyin_with_tone_numbers() -> None:
    assert pinyin_of("一号生产线下班后负荷42千瓦") == (
        "yi1 hao4 sheng1 chan3 xian4 xia4 ban1 hou4 fu4 he4 si4 shi2 er4 qian1 wa3"
    )


def test_neutral_tone_is_5_and_u_umlaut_is_v() -> None:
    # The cmn-latn-pinyin voice reads `de5` as a short neutral syllable and `lv4` as lǜ.
    assert pinyin_of("他的绿灯") == "ta1 de5 lv4 deng1"


def test_phrases_pick_the_right_reading_of_a_character() -> None:
    assert pinyin_of("银行行长") == "yin2 hang2 hang2 zhang3"
    assert pinyin_of("不是") == "bu2 shi4"


def test_numbers_times_dates_and_units_read_in_chinese() -> None:
    assert normalise("负荷 42.5 kW，超过40kW", ZH) == "负荷 四十二点五千瓦,超过四十千瓦"
    assert normalise("气温-3.5℃ 湿度85%", ZH) == "气温负三点五摄氏度 湿度百分之八十五"
    assert normalise("17:05 17:00 08:30:15", ZH) == "十七点零五分 十七点 八点三十分十五秒"
    assert normalise("2026年 2026-03-02", ZH) == "二零二六年 二零二六年三月二日"
    assert normalise("用电 1,234 kWh", ZH) == "用电 一千二百三十四千瓦时"


def test_codes_next_to_letters_stay_as_written() -> None:
    assert normalise("A3 线 3-5 号", ZH) == "A3 线 三-五 号"


def test_english_units_spelled_and_digits_left_to_espeak() -> None:
    assert normalise("Line 1 load 42 kW at 17:00, 3 A", EN) == (
        "Line 1 load 42 kilowatts at 17:00, 3 amperes"
    )


def test_latin_words_in_chinese_go_to_the_english_voice_with_pauses_kept() -> None:
    script = build_script("1号线超过40kW！PLC报警。", ZH)
    assert [(segment.voice, segment.text) for segment in script.segments] == [
        (VOICE_PINYIN, "yi1 hao4 xian4 chao1 guo4 si4 shi2 qian1 wa3!"),
        (VOICE_ENGLISH, "PLC"),
        (VOICE_PINYIN, "bao4 jing3."),
    ]
    assert script.is_ssml
    assert script.espeak_input() == (
        '<speak><voice name="cmn-latn-pinyin">yi1 hao4 xian4 chao1 guo4 si4 shi2 qian1 wa3!'
        '</voice> <voice name="en">PLC</voice> <voice name="cmn-latn-pinyin">bao4 jing3.'
        "</voice></speak>"
    )


def test_ssml_escapes_markup_in_the_text() -> None:
    script = build_script("Pump <3> & 泵", EN)
    assert "Pump &lt;3&gt; &amp;" in script.espeak_input()


def test_plain_english_is_one_segment_without_ssml() -> None:
    script = build_script("Line 3 stopped.", EN)
    assert not script.is_ssml
    assert script.voice == VOICE_ENGLISH
    assert script.espeak_input() == "Line 3 stopped."


def test_language_detection() -> None:
    assert detect_language("一号线", EN) is ZH
    assert detect_language("Line 1 一号线", EN) is ZH
    assert detect_language("Line 1", ZH) is EN
    assert detect_language("42 %", ZH) is ZH
    assert detect_language("42 %", EN) is EN


def test_nothing_readable_is_an_error() -> None:
    with pytest.raises(ValueError, match="nothing in"):
        build_script("😀 !! ——", ZH)


@given(st.text(max_size=60), st.sampled_from([ZH, EN]))
def test_any_text_gives_segments_or_a_clear_error(text: str, language: Language) -> None:
    try:
        script = build_script(text, language)
    except ValueError as err:
        assert "can be read aloud" in str(err)
        return
    for segment in script.segments:
        assert segment.text == segment.text.strip() and segment.text
        if segment.voice == VOICE_PINYIN:
            assert PINYIN_TEXT.match(segment.text), segment.text
    voices = [segment.voice for segment in script.segments]
    assert all(a != b for a, b in itertools.pairwise(voices))


@given(st.text(alphabet="一二三号线泵电机负荷故障温度0123456789.,%:-kWhA℃ ，。！", max_size=40))
def test_chinese_messages_with_numbers_leave_no_digits(text: str) -> None:
    try:
        script = build_script(text, ZH)
    except ValueError:
        return
    pinyin = " ".join(s.text for s in script.segments if s.voice == VOICE_PINYIN)
    assert not re.search(r"(?<![a-z])\d", pinyin)
