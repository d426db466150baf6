"""Names, defaults and sizes the recorder's modules share."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
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
# States rows kept queued while the database cannot be written; older ones are dropped
# beyond it. Events (whole objects, fewer) have their own cap.
MAX_BACKLOG_ROWS: Final = 1_000_000
MAX_BACKLOG_EVENTS: Final = 100_000
# Writing what is queued at stop gives up after this long, well inside the hub's
# STOP_STEP_TIMEOUT, so the database is still closed (its threads would keep the process up).
STOP_WRITE_SECONDS: Final = 15.0
# After giving up, how long the statement in progress gets to notice its interruption.
STOP_INTERRUPT_SECONDS: Final = 5.0
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

# Event data the JSON encoder refuses is stored as {UNSERIALIZABLE_KEY: repr}, cut to this.
UNSERIALIZABLE_KEY: Final = "unserializable"
UNSERIALIZABLE_REPR_CHARS: Final = 1_000

PURGE_TIME: Final = time(4, 12)
PURGE_AFTER_START_SECONDS: Final = 300.0
PURGE_CHUNK_ROWS: Final = 10_000


class Period(StrEnum):
    """Statistics periods a query may ask for."""

    FIVE_MINUTE = "5minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


class StatisticType(StrEnum):
    """The values of a statistics row a query may ask for, in the order rows list them."""

    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    STATE = "state"
    CHANGE = "change"


STATISTIC_TYPES: Final = tuple(StatisticType)
