"""What espeak-ng reads: a message turned into voice segments (pinyin for Han, English for Latin).

Han characters go to the `cmn-latn-pinyin` voice as pypinyin syllables with tone numbers
(neutral tone 5, ü as v: the spelling that voice reads, e.g. `lv4`, `de5`). Latin words go to
the English voice in either language, so `PLC 故障` reads "P L C" in English and 故障 in
Mandarin. The language decides numbers and units: in Chinese, digits are read in Chinese
(`42 kW` → 四十二千瓦, see numbers.py) and times and dates as Chinese say them; in English
espeak-ng reads the digits and units are spelled out (`42 kW` → 42 kilowatts). Several
segments are sent as SSML with one `<voice>` element each.

pypinyin loads its phrase tables on first use, so `build_script` runs in an executor.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final
from xml.sax.saxutils import escape

from plantpulse.integrations.speaker.const import VOICE_ENGLISH, VOICE_PINYIN, Language
from plantpulse.integrations.speaker.numbers import digit_by_digit, integer_reading, number_reading

HAN_RE: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_HAN_SPLIT_RE: Final = re.compile(f"({HAN_RE.pattern})")
_LATIN_RE: Final = re.compile(r"[A-Za-z]")
_ALNUM_RE: Final = re.compile(r"[A-Za-z0-9]")
_SPACE_RE: Final = re.compile(r"\s+")

# Chinese punctuation NFKC leaves alone, as the ASCII marks espeak-ng pauses at.
_CJK_PUNCTUATION: Final = str.maketrans({
    "。": ". ", "、": ", ", "「": " ", "」": " ", "『": " ", "』": " ", "【": " ", "】": " ",
    "《": " ", "》": " ", "〈": " ", "〉": " ", "…": ". ", "—": ", ", "·": " ",
})
# Pauses between segments, strongest first.
_PAUSES: Final = (".", "!", "?", ";", ":", ",")

# Units read after a number. Longest symbols first, so `kWh` wins over `kW`.
UNITS_ZH: Final = {
    "kWh": "千瓦时", "MWh": "兆瓦时", "kVA": "千伏安", "kvar": "千乏", "kW": "千瓦", "MW": "兆瓦",
    "kV": "千伏", "kA": "千安", "mA": "毫安", "Hz": "赫兹", "°C": "摄氏度", "m3/h": "立方米每小时",
    "m3": "立方米", "m2": "平方米", "mm/s": "毫米每秒", "m/s": "米每秒", "r/min": "转每分",
    "rpm": "转每分", "MPa": "兆帕", "kPa": "千帕", "tce": "吨标准煤", "min": "分钟", "mm": "毫米",
    "cm": "厘米", "km": "千米", "kg": "千克", "°": "度", "W": "瓦", "V": "伏", "A": "安",
    "m": "米", "t": "吨", "h": "小时", "s": "秒", "L": "升", "Pa": "帕",
}
UNITS_EN: Final = {
    "kWh": "kilowatt hours", "MWh": "megawatt hours", "kVA": "kilovolt amperes",
    "kvar": "kilovars", "kW": "kilowatts", "MW": "megawatts", "kV": "kilovolts",
    "kA": "kiloamperes", "mA": "milliamperes", "Hz": "hertz", "°C": "degrees Celsius",
    "m3/h": "cubic metres per hour", "m3": "cubic metres", "m2": "square metres",
    "mm/s": "millimetres per second", "m/s": "metres per second", "r/min": "R P M",
    "rpm": "R P M", "MPa": "megapascals", "kPa": "kilopascals", "tce": "tonnes of coal equivalent",
    "mm": "millimetres", "kg": "kilograms", "°": "degrees", "W": "watts", "V": "volts",
    "A": "amperes", "t": "tonnes",
}


def _unit_pattern(units: dict[str, str]) -> str:
    symbols = sorted(units, key=len, reverse=True)
    return "|".join(re.escape(symbol) for symbol in symbols)


_NUMBER: Final = (
    r"(?<![A-Za-z0-9.])(?P<sign>-)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?"
    r"(?P<pct>\s?%)?"
)
_NUMBER_ZH_RE: Final = re.compile(
    _NUMBER + rf"(?:\s?(?P<unit>{_unit_pattern(UNITS_ZH)})(?![A-Za-z]))?"
)
_UNIT_EN_RE: Final = re.compile(
    rf"(?<=\d)(?P<space>\s?)(?P<unit>{_unit_pattern(UNITS_EN)})(?![A-Za-z])"
)
_TIME_RE: Final = re.compile(
    r"(?<![0-9:])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![0-9:])"
)
_DATE_RE: Final = re.compile(r"(?<![0-9])(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})(?![0-9])")
_YEAR_RE: Final = re.compile(r"(?<![0-9])(?P<y>\d{4})(?=年)")


@dataclass(frozen=True, slots=True)
class Segment:
    """Text one espeak-ng voice reads."""

    voice: str
    text: str


@dataclass(frozen=True, slots=True)
class SpeechScript:
    """A message ready for espeak-ng: its language and the voice segments to read."""

    language: Language
    segments: tuple[Segment, ...]

    @property
    def voice(self) -> str:
        """The voice espeak-ng starts with (the first segment's)."""
        return self.segments[0].voice

    @property
    def is_ssml(self) -> bool:
        """Whether the input is SSML (more than one voice)."""
        return len(self.segments) > 1

    def espeak_input(self) -> str:
        """The text fed to espeak-ng: plain for one segment, SSML with `<voice>` otherwise."""
        if not self.is_ssml:
            return self.segments[0].text
        body = " ".join(
            f'<voice name="{segment.voice}">{escape(segment.text)}</voice>'
            for segment in self.segments
        )
        return f"<speak>{body}</speak>"


def has_han(text: str) -> bool:
    """Whether the text contains Chinese characters."""
    return HAN_RE.search(unicodedata.normalize("NFKC", text)) is not None


def detect_language(text: str, default: Language) -> Language:
    """Chinese when the text has Han characters, English when it has Latin letters only,
    else (digits and signs alone) the default, normally the site's language."""
    if has_han(text):
        return Language.ZH_CN
    if _LATIN_RE.search(text):
        return Language.EN
    return default


def _zh_number(match: re.Match[str]) -> str:
    reading = number_reading(
        match["int"].replace(",", ""), match["frac"] or "", negative=bool(match["sign"]),
        percent=bool(match["pct"]),
    )
    unit = match["unit"]
    return f"{reading}{UNITS_ZH[unit]}" if unit else reading


def _zh_time(match: re.Match[str]) -> str:
    text = integer_reading(int(match["h"])) + "点"
    minutes, seconds = int(match["m"]), int(match["s"] or 0)
    if minutes or seconds:
        text += ("零" if minutes < 10 else "") + integer_reading(minutes) + "分"
    if seconds:
        text += integer_reading(seconds) + "秒"
    return text


def _zh_date(match: re.Match[str]) -> str:
    return (f"{digit_by_digit(match['y'])}年{integer_reading(int(match['m']))}月"
            f"{integer_reading(int(match['d']))}日")


def normalise(text: str, language: Language) -> str:
    """Unicode forms folded, Chinese punctuation as ASCII marks, numbers and units in words."""
    text = unicodedata.normalize("NFKC", text).translate(_CJK_PUNCTUATION)
    if language is Language.ZH_CN:
        text = _DATE_RE.sub(_zh_date, text)
        text = _TIME_RE.sub(_zh_time, text)
        text = _YEAR_RE.sub(lambda match: digit_by_digit(match["y"]), text)
        return _NUMBER_ZH_RE.sub(_zh_number, text)
    return _UNIT_EN_RE.sub(lambda match: " " + UNITS_EN[match["unit"]], text)


def _pause_of(text: str) -> str:
    return next((mark for mark in _PAUSES if mark in text), "")


def _pinyin(han: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(han, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=False,
                       errors=lambda _chars: None)


def build_script(text: str, language: Language) -> SpeechScript:
    """Split a message into pinyin and English segments. Raises ValueError when nothing in it
    can be read aloud (only symbols or emoji)."""
    segments: list[Segment] = []

    def add(voice: str, words: str) -> None:
        words = _SPACE_RE.sub(" ", words).strip()
        if not words:
            return
        if segments and segments[-1].voice == voice:
            segments[-1] = Segment(voice, f"{segments[-1].text} {words}")
        else:
            segments.append(Segment(voice, words))

    for index, run in enumerate(_HAN_SPLIT_RE.split(normalise(text, language))):
        if index % 2:
            add(VOICE_PINYIN, " ".join(_pinyin(run)))
            continue
        # Marks before the first word end the previous segment; the rest is English.
        first_word = _ALNUM_RE.search(run)
        lead = run[:first_word.start()] if first_word else run
        if segments and (pause := _pause_of(lead)):
            segments[-1] = Segment(segments[-1].voice, segments[-1].text + pause)
        if first_word:
            add(VOICE_ENGLISH, run[first_word.start():])
    if not segments:
        raise ValueError(f"nothing in {text!r} can be read aloud")
    return SpeechScript(language, tuple(segments))
