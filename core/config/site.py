"""Site settings under `plantpulse:`: name, time zone, currency, language, unit system."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, Final
from zoneinfo import ZoneInfo

import voluptuous as vol

from plantpulse.core.config import validation as cv

DEFAULT_TIME_ZONE: Final = "Asia/Shanghai"
LANGUAGES: Final = ("zh-CN", "en")
UNIT_SYSTEMS: Final = ("metric", "us_customary")
_LANGUAGE_ALIASES: Final = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh_cn": "zh-CN", "en": "en",
                            "en-us": "en", "en-gb": "en", "en_us": "en"}


def _language(value: Any) -> str:
    text = cv.string(value).strip()
    normalised = _LANGUAGE_ALIASES.get(text.lower())
    if normalised is None:
        raise vol.Invalid(f"unsupported language {text!r}: use one of {', '.join(LANGUAGES)}")
    return normalised


def _currency(value: Any) -> str:
    text = cv.string(value).strip().upper()
    if len(text) != 3 or not text.isalpha():
        raise vol.Invalid(f"expected an ISO 4217 currency code such as CNY, got {value!r}")
    return text


@dataclass(frozen=True)
class SiteConfig:
    """Where the hub runs and how it speaks: the validated `plantpulse:` block."""

    name: str = "PlantPulse"
    time_zone: str = DEFAULT_TIME_ZONE
    currency: str = "CNY"
    language: str = "zh-CN"
    unit_system: str = "metric"
    country: str = "CN"
    latitude: float | None = None
    longitude: float | None = None

    @cached_property
    def tz(self) -> ZoneInfo:
        """The site's time zone, for local days, months, shifts and tariffs."""
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_config(cls, block: dict[str, Any]) -> SiteConfig:
        """Build from a validated `plantpulse:` block."""
        return cls(**{key: block[key] for key in cls.__dataclass_fields__ if key in block})

    def as_dict(self) -> dict[str, Any]:
        """Serialise for `/api/config`."""
        return asdict(self)


SITE_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional("name", default=SiteConfig.name): cv.string,
    vol.Optional("time_zone", default=SiteConfig.time_zone): cv.time_zone,
    vol.Optional("currency", default=SiteConfig.currency): _currency,
    vol.Optional("language", default=SiteConfig.language): _language,
    vol.Optional("unit_system", default=SiteConfig.unit_system): vol.In(UNIT_SYSTEMS),
    vol.Optional("country", default=SiteConfig.country): vol.All(
        cv.string, vol.Upper, vol.Length(2, 2)
    ),
    vol.Optional("latitude"): vol.All(vol.Coerce(float), vol.Range(-90, 90)),
    vol.Optional("longitude"): vol.All(vol.Coerce(float), vol.Range(-180, 180)),
}))
