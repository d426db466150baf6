"""Constants of the template integration."""

from typing import Final

DOMAIN: Final = "template"

CONF_NAME: Final = "name"
CONF_UNIQUE_ID: Final = "unique_id"
CONF_STATE: Final = "state"
CONF_ICON: Final = "icon"
CONF_AVAILABILITY: Final = "availability"
CONF_ATTRIBUTES: Final = "attributes"
CONF_DEVICE_CLASS: Final = "device_class"
CONF_UNIT_OF_MEASUREMENT: Final = "unit_of_measurement"
CONF_STATE_CLASS: Final = "state_class"
CONF_DELAY_ON: Final = "delay_on"
CONF_DELAY_OFF: Final = "delay_off"
CONF_SENSORS: Final = "sensor"
CONF_BINARY_SENSORS: Final = "binary_sensor"
CONF_TRIGGER: Final = "trigger"

DEFAULT_SENSOR_NAME: Final = "Template Sensor"
DEFAULT_BINARY_SENSOR_NAME: Final = "Template Binary Sensor"
