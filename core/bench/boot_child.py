"""Child process of the boot benchmark: times its own start and prints JSON. Not for users."""

import time

T0 = time.perf_counter()

import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from plantpulse.core.bootstrap import async_setup_hub  # noqa: E402
from plantpulse.core.storage import ConfigDirLock  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _main(config_dir: Path) -> dict[str, float]:
    hub = await async_setup_hub(config_dir)
    await hub.async_start()
    seconds = time.perf_counter() - T0
    reading = {"seconds": seconds, "rss_mb": _rss_mb(), "components": len(hub.components)}
    await hub.async_stop()
    return reading


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    folder = Path(sys.argv[1])
    with ConfigDirLock(folder):
        print(json.dumps(asyncio.run(_main(folder))))
