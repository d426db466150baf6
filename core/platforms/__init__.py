"""Entity platforms: the base classes for sensor, binary_sensor, switch, number and button."""
