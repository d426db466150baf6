"""Constants of the speaker integration: config keys, defaults, voices and limits."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "speaker"
SERVICE_SAY: Final = "say"

CONF_SPEAKERS: Final = "speakers"
CONF_NAME: Final = "name"
CONF_TYPE: Final = "type"
CONF_DEVICE: Final = "device"
CONF_UPLOAD_URL: Final = "upload_url"
CONF_UPLOAD_AS: Final = "upload_as"
CONF_UPLOAD_FIELD: Final = "upload_field"
CONF_PLAY_URL: Final = "play_url"
CONF_PAYLOAD: Final = "payload"
CONF_METHOD: Final = "method"
CONF_HEADERS: Final = "headers"
CONF_USERNAME: Final = "username"
CONF_PASSWORD: Final = "password"
CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_TIMEOUT: Final = "timeout"
CONF_VOLUME: Final = "volume"
CONF_RATE: Final = "rate"
CONF_PITCH: Final = "pitch"
CONF_CACHE_MAX_MB: Final = "cache_max_mb"
CONF_BASE_URL: Final = "base_url"
CONF_URL_TTL: Final = "url_ttl"

ATTR_MESSAGE: Final = "message"
ATTR_TARGET: Final = "target"
ATTR_LANGUAGE: Final = "language"
ATTR_VOLUME: Final = "volume"
ATTR_REPEAT: Final = "repeat"


class SpeakerType(StrEnum):
    """How a speaker receives its audio."""

    LOCAL = "local"  # the hub's own sound card, through aplay
    HTTP = "http"  # an IP speaker: the WAV uploaded, or a URL of it sent to play


class UploadAs(StrEnum):
    """How an `http` speaker wants the WAV in an upload request."""

    RAW = "raw"  # the body is the WAV (Content-Type: audio/wav)
    MULTIPART = "multipart"  # a form with the WAV as a file field


class Language(StrEnum):
    """Languages the speaker reads aloud."""

    ZH_CN = "zh-CN"
    EN = "en"


# espeak-ng voices. Plain `cmn` reads most Han characters with English letter names; the pinyin
# voice reads pinyin syllables with tone numbers correctly, so Chinese goes through pypinyin.
VOICE_PINYIN: Final = "cmn-latn-pinyin"
VOICE_PLAIN_MANDARIN: Final = "cmn"
VOICE_ENGLISH: Final = "en"

ESPEAK: Final = "espeak-ng"
APLAY: Final = "aplay"

DEFAULT_NAME: Final = "local"
DEFAULT_DEVICE: Final = "default"
DEFAULT_RATE: Final = 175  # words per minute, espeak-ng's own (about 3.4 Mandarin syllables/s)
DEFAULT_PITCH: Final = 50
DEFAULT_VOLUME: Final = 100
DEFAULT_CACHE_MAX_MB: Final = 50.0
DEFAULT_URL_TTL: Final = 300.0  # seconds a served WAV stays fetchable
DEFAULT_HTTP_TIMEOUT: Final = 15.0
DEFAULT_UPLOAD_FIELD: Final = "file"

MIN_RATE: Final = 80
MAX_RATE: Final = 450
DEFAULT_REPEAT: Final = 1
MAX_REPEAT: Final = 10
MAX_MESSAGE_CHARS: Final = 2000
REPEAT_GAP: Final = 1.0  # seconds of silence between repetitions

SYNTHESIS_TIMEOUT: Final = 30.0
# Playback may take as long as the audio plus this margin before aplay is stopped.
PLAYBACK_MARGIN: Final = 15.0

CACHE_DIR: Final = (".cache", "tts")
CLIPS_DIR: Final = "clips"
SERVED_DIR: Final = "served"
WAV_SUFFIX: Final = ".wav"
WAV_CONTENT_TYPE: Final = "audio/wav"
