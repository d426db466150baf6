"""Boot benchmark: a fresh process from its first line to a running hub, and its RSS then."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from plantpulse.core.bench import BenchOptions, Figure, benchmark
from plantpulse.core.const import CONFIG_FILE
from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.storage import ConfigDirLock

# The anchor's boot config has recorder, http, api, websocket and one automation; ours has
# the REST and WebSocket APIs inside http.
BOOT_CONFIG: Final = """plantpulse:
  name: bench
  time_zone: UTC
  currency: CNY
http:
  server_host: 127.0.0.1
  server_port: {port}
recorder:
logger:
  default: warning
automation:
  - id: line_load_high
    alias: Line load high after 17:00
    triggers:
      - trigger: numeric_state
        entity_id: sensor.line_load
        above: 40
    conditions:
      - condition: time
        after: "17:00:00"
    actions:
      - action: persistent_notification.create
        data:
          message: "Line load {{{{ states('sensor.line_load') }}}} kW"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _boot_child(config_dir: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "plantpulse.core.bench.boot_child", str(config_dir)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if result.returncode != 0:
        raise PlantPulseError(f"the hub did not boot:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _check_config_dir(config_dir: Path) -> None:
    if not (config_dir / CONFIG_FILE).is_file():
        raise PlantPulseError(f"{config_dir} has no {CONFIG_FILE}: nothing to boot")
    with ConfigDirLock(config_dir):
        pass


@benchmark("boot", "s")
def boot(options: BenchOptions) -> Figure:
    """Process start to RUNNING with recorder and http (REST, WebSocket); RSS after, in MB.

    With --config DIR it boots that config dir (the hub there must be stopped).
    """
    if options.config_dir is not None:
        _check_config_dir(options.config_dir)
        reading = _boot_child(options.config_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="plantpulse-boot-") as folder:
            Path(folder, "configuration.yaml").write_text(
                BOOT_CONFIG.format(port=_free_port()), encoding="utf-8"
            )
            reading = _boot_child(Path(folder))
    return Figure(reading["seconds"], {"rss_mb": reading["rss_mb"]})
