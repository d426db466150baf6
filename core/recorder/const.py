"""Names, defaults and sizes the recorder's modules share."""

from __future__ import annotations

from datetime import time
from typing import Final

DOMAIN: Final = "recorder"
DATA_RECORDER: Final = "recorder"

DEFAULT_DB_FILE: Final = "plantpulse.db"
SQLITE_URL_PREFIX: Final = "sqlite:///"
DEFAULT_PURGE_KEEP_DAYS: Final = 10
DEFAULT_COMMIT_INTERVAL: Final = 1.0
DEFAULT_KEEP_5MINUTE_DAYS: Final = 90

# The writer commits at once, without waiting for commit_interval, when this many rows queue.
EARLY_COMMIT_ROWS: Final = 5_000
# Rows written in one transaction at most; a larger backlog is written in several.
MAX_BATCH_ROWS: Final = 10_000
# States turned into rows between two yields to the event loop.
CONVERT_CHUNK: Final = 1_000
# Rows kept queued while the database cannot be written; older ones are dropped beyond it.
MAX_BACKLOG_ROWS: Final = 1_000_000
# The WAL file is checkpointed and truncated when a commit leaves it larger than this.
WAL_TRUNCATE_BYTES: Final = 1 << 20
# Parameters in one `IN (...)` list, well under every backend's limit.
IN_CHUNK: Final = 500

SHORT_TERM_SECONDS: Final = 300
HOUR_SECONDS: Final = 3600
DAY_SECONDS: Final = 86_400
MICROSECONDS: Final = 1_000_000
# A period is compiled this long after it closes, so its last states are committed first.
COMPILE_DELAY_SECONDS: Final = 10.0
# statistics_meta.source of statistics compiled from recorded states.
SOURCE_RECORDER: Final = "recorder"
# A total_increasing reading below this share of the previous one is a meter reset.
RESET_RATIO: Final = 0.9

PURGE_TIME: Final = time(4, 12)
PURGE_AFTER_START_SECONDS: Final = 300.0
PURGE_CHUNK_ROWS: Final = 10_000
