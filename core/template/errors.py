"""The error a template raises: bad syntax, a failed render, or a limit reached."""

from plantpulse.core.exceptions import PlantPulseError


class TemplateError(PlantPulseError):
    """A template could not be compiled or rendered; the message says why."""
