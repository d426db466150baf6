"""PlantPulse: a self-hosted monitoring hub for factories."""

__version__ = "0.1.0"
