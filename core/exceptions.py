"""Exceptions a user or integration developer can act on."""


class PlantPulseError(Exception):
    """Base class for errors raised by the hub."""


class InvalidEntityIdError(PlantPulseError, ValueError):
    """An entity id is not of the form `<domain>.<object_id>` in lowercase ASCII."""

    def __init__(self, entity_id: str) -> None:
        super().__init__(
            f"Invalid entity id {entity_id!r}: expected '<domain>.<object_id>' with lowercase "
            "letters, digits and underscores"
        )
        self.entity_id = entity_id


class InvalidStateError(PlantPulseError, ValueError):
    """A state value is too long or attributes cannot be stored."""


class ServiceNotFound(PlantPulseError):
    """A service that is not registered was called."""

    def __init__(self, domain: str, service: str) -> None:
        super().__init__(f"Service {domain}.{service} not found")
        self.domain = domain
        self.service = service


class ServiceValidationError(PlantPulseError):
    """The data passed to a service does not match its schema."""


class Unauthorized(PlantPulseError):
    """The caller's user may not do this."""


class ConfigError(PlantPulseError):
    """The configuration cannot be used; the message names file and line where known."""


class StorageError(PlantPulseError):
    """A `.storage` file cannot be read or written."""


class HubRunningError(PlantPulseError):
    """A command that must not write behind a running hub's back found the hub running."""
