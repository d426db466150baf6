"""Constants of the http component: config keys, defaults, limits, app and request keys."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "http"

CONF_SERVER_HOST: Final = "server_host"
CONF_SERVER_PORT: Final = "server_port"
CONF_CORS_ALLOWED_ORIGINS: Final = "cors_allowed_origins"
CONF_IP_BAN_ENABLED: Final = "ip_ban_enabled"
CONF_LOGIN_ATTEMPTS_THRESHOLD: Final = "login_attempts_threshold"
CONF_LOGIN_ATTEMPTS_WINDOW: Final = "login_attempts_window_minutes"
CONF_IP_BAN_MINUTES: Final = "ip_ban_minutes"
CONF_USE_X_FORWARDED_FOR: Final = "use_x_forwarded_for"
CONF_TRUSTED_PROXIES: Final = "trusted_proxies"

# Largest request body and WebSocket message accepted; larger ones get 413 / close 1009.
MAX_BODY_BYTES: Final = 1024 * 1024
# A REST service call answers after this long even if the service still runs (as HA does).
SERVICE_WAIT_SECONDS: Final = 10.0
# Seconds a stopping server waits for requests in flight.
SHUTDOWN_TIMEOUT: Final = 5.0
