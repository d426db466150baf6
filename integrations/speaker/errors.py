"""Errors of the speaker integration, with messages a plant engineer can act on."""

from __future__ import annotations

from plantpulse.core.exceptions import PlantPulseError


class SpeakerError(PlantPulseError):
    """Speech could not be made or delivered; the message says what and what to do."""


class UnknownSpeakerError(SpeakerError):
    """A message was sent to a speaker name that is not configured."""
