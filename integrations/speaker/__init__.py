"""Speaker broadcast: `speaker.say` reads a message aloud, offline, on the plant's speakers.

Mandarin through pypinyin and espeak-ng's `cmn-latn-pinyin` voice, English through its `en`
voice (script.py says how numbers, units and mixed text are read); WAV files cached under
`<config>/.cache/tts/`; played on the hub's sound card with aplay or sent to IP speakers.

    speaker:                          # alone: one speaker, "local", on the default device
      rate: 175                       # words per minute
      pitch: 50                       # 0-99
      cache_max_mb: 50
      speakers:
        - name: workshop              # the hub's own sound card
          type: local
          device: default             # an ALSA device (`aplay -L` lists them)
        - name: gate                  # an IP speaker that takes the WAV
          type: http
          upload_url: http://10.0.0.31/api/play
          upload_as: multipart        # or raw (the body is the WAV)
          username: admin
          password: !secret gate_speaker
        - name: hall                  # an IP speaker that fetches a URL the hub serves
          type: http
          play_url: "http://10.0.0.32/play?url={{ url | urlencode }}&vol={{ volume }}"
          volume: 80

Python API for other integrations: `await hub.data["speaker"].async_say(text, targets,
language)` (broadcast.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import StopStage
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.integrations.speaker.broadcast import Announcement, Broadcaster
from plantpulse.integrations.speaker.cache import WavCache
from plantpulse.integrations.speaker.const import (
    ATTR_LANGUAGE,
    ATTR_MESSAGE,
    ATTR_REPEAT,
    ATTR_TARGET,
    ATTR_VOLUME,
    CACHE_DIR,
    CLIPS_DIR,
    CONF_BASE_URL,
    CONF_CACHE_MAX_MB,
    CONF_DEVICE,
    CONF_HEADERS,
    CONF_METHOD,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PAYLOAD,
    CONF_PITCH,
    CONF_PLAY_URL,
    CONF_RATE,
    CONF_SPEAKERS,
    CONF_TIMEOUT,
    CONF_TYPE,
    CONF_UPLOAD_AS,
    CONF_UPLOAD_FIELD,
    CONF_UPLOAD_URL,
    CONF_URL_TTL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_VOLUME,
    DEFAULT_CACHE_MAX_MB,
    DEFAULT_DEVICE,
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_NAME,
    DEFAULT_PITCH,
    DEFAULT_RATE,
    DEFAULT_REPEAT,
    DEFAULT_UPLOAD_FIELD,
    DEFAULT_URL_TTL,
    DEFAULT_VOLUME,
    DOMAIN,
    MAX_MESSAGE_CHARS,
    MAX_RATE,
    MAX_REPEAT,
    MIN_RATE,
    SERVED_DIR,
    SERVICE_SAY,
    Language,
    SpeakerType,
    UploadAs,
)
from plantpulse.integrations.speaker.drivers import HttpSpeaker, LocalSpeaker, Speaker
from plantpulse.integrations.speaker.errors import SpeakerError, UnknownSpeakerError
from plantpulse.integrations.speaker.espeak import EspeakEngine, Prosody
from plantpulse.integrations.speaker.serve import AudioServer
from plantpulse.integrations.speaker.tts import TextToSpeech

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

_LANGUAGE_ALIASES: Final = {"zh": Language.ZH_CN, "zh-cn": Language.ZH_CN,
                            "zh_cn": Language.ZH_CN, "cmn": Language.ZH_CN, "en": Language.EN,
                            "en-us": Language.EN, "en-gb": Language.EN, "en_us": Language.EN}
_HTTP_ONLY: Final = (CONF_UPLOAD_URL, CONF_PLAY_URL, CONF_PAYLOAD, CONF_METHOD, CONF_USERNAME,
                     CONF_PASSWORD)


def language(value: Any) -> Language:
    """zh-CN or en (zh, zh_CN, en-US... accepted)."""
    text = cv.string(value).strip()
    if (found := _LANGUAGE_ALIASES.get(text.lower())) is None:
        raise vol.Invalid(f"unsupported language {text!r}: use zh-CN or en")
    return found


_volume = vol.All(vol.Coerce(int), vol.Range(min=0, max=100, msg="must be from 0 to 100 (%)"))


def _speaker_kind_fields(config: dict[str, Any]) -> dict[str, Any]:
    """Each type takes its own settings: an http speaker one of upload_url and play_url."""
    if config[CONF_TYPE] == SpeakerType.LOCAL:
        if wrong := [key for key in _HTTP_ONLY if key in config]:
            raise vol.Invalid(f"{', '.join(wrong)} only apply to `type: http` speakers")
    elif (CONF_UPLOAD_URL in config) == (CONF_PLAY_URL in config):
        raise vol.Invalid("an http speaker needs exactly one of upload_url (the hub sends the "
                          "WAV) and play_url (the speaker fetches it from the hub)")
    elif CONF_PAYLOAD in config and CONF_PLAY_URL not in config:
        raise vol.Invalid("payload goes with play_url (it is the body of the play request)")
    if CONF_PASSWORD in config and CONF_USERNAME not in config:
        raise vol.Invalid("password needs a username (HTTP basic authentication)")
    return config


SPEAKER_SCHEMA: Final = vol.All(vol.Schema({
    vol.Required(CONF_NAME): vol.All(cv.string, vol.Length(min=1, max=64)),
    vol.Optional(CONF_TYPE, default=SpeakerType.LOCAL): vol.All(cv.string, vol.Coerce(SpeakerType)),
    vol.Optional(CONF_DEVICE, default=DEFAULT_DEVICE): cv.string,
    vol.Optional(CONF_UPLOAD_URL): cv.template,
    vol.Optional(CONF_UPLOAD_AS, default=UploadAs.RAW): vol.All(cv.string, vol.Coerce(UploadAs)),
    vol.Optional(CONF_UPLOAD_FIELD, default=DEFAULT_UPLOAD_FIELD): cv.string,
    vol.Optional(CONF_PLAY_URL): cv.template,
    vol.Optional(CONF_PAYLOAD): cv.template_complex,
    vol.Optional(CONF_METHOD): vol.All(cv.string, vol.Upper, vol.In(("GET", "POST", "PUT"))),
    vol.Optional(CONF_HEADERS, default={}): {cv.string: cv.string},
    vol.Optional(CONF_USERNAME): cv.string,
    vol.Optional(CONF_PASSWORD): cv.string,
    vol.Optional(CONF_VERIFY_SSL, default=True): cv.boolean,
    vol.Optional(CONF_TIMEOUT, default=DEFAULT_HTTP_TIMEOUT): vol.All(
        vol.Coerce(float), vol.Range(min=0.1, max=300)),
    vol.Optional(CONF_VOLUME, default=DEFAULT_VOLUME): _volume,
}), _speaker_kind_fields)


def _unique_names(speakers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Refuse a second speaker with a name already used (only that one is dropped)."""
    seen: set[str] = set()
    for index, speaker in enumerate(speakers):
        if speaker[CONF_NAME] in seen:
            raise vol.Invalid(f"another speaker is already called {speaker[CONF_NAME]!r}",
                              path=[index, CONF_NAME])
        seen.add(speaker[CONF_NAME])
    return speakers


CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional(CONF_SPEAKERS): vol.All(cv.ensure_list, [SPEAKER_SCHEMA], _unique_names),
    vol.Optional(CONF_RATE, default=DEFAULT_RATE): vol.All(
        vol.Coerce(int), vol.Range(min=MIN_RATE, max=MAX_RATE,
                                   msg=f"must be from {MIN_RATE} to {MAX_RATE} words a minute")),
    vol.Optional(CONF_PITCH, default=DEFAULT_PITCH): vol.All(
        vol.Coerce(int), vol.Range(min=0, max=99, msg="must be from 0 to 99")),
    vol.Optional(CONF_CACHE_MAX_MB, default=DEFAULT_CACHE_MAX_MB): vol.All(
        vol.Coerce(float), vol.Range(min=0, msg="must be 0 MB or more")),
    vol.Optional(CONF_BASE_URL): vol.All(cv.string, vol.Match(
        r"^https?://[^/?#]+/?$", msg="must be like http://192.168.1.20:8130")),
    vol.Optional(CONF_URL_TTL, default=DEFAULT_URL_TTL): vol.All(
        vol.Coerce(float), vol.Range(min=1, max=86400)),
}))

SAY_SCHEMA: Final = vol.Schema({
    vol.Required(ATTR_MESSAGE): vol.All(cv.string, vol.Length(min=1, max=MAX_MESSAGE_CHARS)),
    vol.Optional(ATTR_TARGET): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(ATTR_LANGUAGE): language,
    vol.Optional(ATTR_VOLUME): _volume,
    vol.Optional(ATTR_REPEAT, default=DEFAULT_REPEAT): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=MAX_REPEAT)),
})

SAY_FIELDS: Final = {
    ATTR_MESSAGE: ServiceField("What to say (Chinese or English)", example="一号线负荷超过40千瓦",
                               required=True),
    ATTR_TARGET: ServiceField("Speaker name or list of names; all speakers when left out",
                              example=["workshop"]),
    ATTR_LANGUAGE: ServiceField("zh-CN or en; by default Chinese when the text has Chinese "
                                "characters", example="zh-CN"),
    ATTR_VOLUME: ServiceField("0-100 %, instead of each speaker's own volume", example=80),
    ATTR_REPEAT: ServiceField(f"How many times to play it (1-{MAX_REPEAT})", example=2),
}


def _build_speakers(
    hub: Hub, configs: list[Mapping[str, Any]], server: AudioServer,
    session: aiohttp.ClientSession | None,
) -> list[Speaker]:
    speakers: list[Speaker] = []
    for config in configs:
        if config[CONF_TYPE] == SpeakerType.LOCAL:
            speakers.append(LocalSpeaker(config))
        else:
            assert session is not None
            speakers.append(HttpSpeaker(hub, config, session, server))
    return speakers


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Index the phrase cache, set up the speakers and register `speaker.say`."""
    speaker_configs = config.get(CONF_SPEAKERS)
    if speaker_configs is None:
        speaker_configs = [SPEAKER_SCHEMA({CONF_NAME: DEFAULT_NAME})]
    cache_dir = hub.path(*CACHE_DIR)
    cache = WavCache(hub, cache_dir, int(config[CONF_CACHE_MAX_MB] * 1024 * 1024))
    tts = TextToSpeech(hub, EspeakEngine(), cache,
                       Prosody(config[CONF_RATE], config[CONF_PITCH]))
    server = AudioServer(hub, cache_dir / SERVED_DIR, config[CONF_URL_TTL],
                         config.get(CONF_BASE_URL))
    session = None
    if any(item[CONF_TYPE] == SpeakerType.HTTP for item in speaker_configs):
        session = aiohttp.ClientSession()
        hub.async_on_stop(session.close, StopStage.INTEGRATIONS)
    broadcaster = Broadcaster(hub, tts, _build_speakers(hub, speaker_configs, server, session),
                              cache_dir / CLIPS_DIR)
    hub.async_on_stop(server.async_stop, StopStage.INTEGRATIONS)
    await tts.async_setup()
    await server.async_setup()
    await broadcaster.async_setup()
    hub.data[DOMAIN] = broadcaster

    async def async_say_service(call: ServiceCall) -> dict[str, Any]:
        try:
            announcement = await broadcaster.async_say(
                call.data[ATTR_MESSAGE], call.data.get(ATTR_TARGET), call.data.get(ATTR_LANGUAGE),
                volume=call.data.get(ATTR_VOLUME), repeat=call.data[ATTR_REPEAT],
            )
        except UnknownSpeakerError as err:
            raise ServiceValidationError(str(err)) from err
        _raise_if_none_played(announcement)
        return announcement.as_dict()

    hub.services.async_register(
        DOMAIN, SERVICE_SAY, async_say_service, SAY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL, name="Say",
        description="Read a message aloud on the plant's speakers (offline text to speech).",
        fields=SAY_FIELDS,
    )
    _LOGGER.info("Speaker broadcast ready with %d speakers: %s", len(broadcaster.speakers),
                 ", ".join(broadcaster.speakers))
    return True


def _raise_if_none_played(announcement: Announcement) -> None:
    """A service call where every speaker failed is an error (automations can see it)."""
    if announcement.outcomes and len(announcement.failed) == len(announcement.outcomes):
        raise SpeakerError("No speaker played the message: " + "; ".join(
            f"{name}: {outcome.error}" for name, outcome in announcement.outcomes.items()
        ))
