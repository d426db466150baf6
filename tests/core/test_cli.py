"""The `plantpulse` command as a user runs it: check-config, seeding, bench list."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_config


def plantpulse(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plantpulse", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_check_config_valid(tmp_path: Path) -> None:
    write_config(tmp_path, "plantpulse:\n  name: 测试\n  time_zone: Asia/Shanghai\nlogger:\n")
    result = plantpulse("check-config", "--config", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "Configuration valid: logger"


def test_check_config_prints_every_problem_and_fails(tmp_path: Path) -> None:
    write_config(tmp_path, """
        plantpulse:
          time_zone: Mars/Olympus
          language: fr
        logger:
          default: loud
        mystery:
        extra: !include missing.yaml
        """)
    result = plantpulse("check-config", "--config", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert "Invalid config (configuration.yaml, line 8): file not found: missing.yaml" in lines
    assert ("Invalid config for 'plantpulse' (configuration.yaml, line 3): unknown time zone "
            "'Mars/Olympus': use an IANA name such as 'Asia/Shanghai' for 'time_zone' (got "
            "'Mars/Olympus') at time_zone") in lines
    assert any("line 4" in line and "unsupported language 'fr'" in line for line in lines)
    assert any("'logger' (configuration.yaml, line 6)" in line and "loud" in line
               for line in lines)
    assert ("Invalid config for 'mystery' (configuration.yaml, line 7): integration 'mystery' "
            "not found") in lines


def test_check_config_json_and_unreadable_main_file(tmp_path: Path) -> None:
    write_config(tmp_path, "a: [1\n")
    result = plantpulse("check-config", "--config", str(tmp_path), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    assert report["issues"][0]["file"] == "configuration.yaml"
    assert report["issues"][0]["message"].startswith("YAML syntax error")


def test_check_config_missing_dir(tmp_path: Path) -> None:
    result = plantpulse("check-config", "--config", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_bench_list_names_the_core_benchmarks() -> None:
    result = plantpulse("bench", "list")
    assert result.returncode == 0
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert {"fire_events", "state_set"} <= names


def test_missing_secret_is_one_problem_and_empty_packages_are_fine(tmp_path: Path) -> None:
    write_config(tmp_path, """
        plantpulse:
          packages: {}
        recorder:
          db_url: !secret db_url
        """)
    result = plantpulse("check-config", "--config", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.strip().splitlines() == [
        "Invalid config (configuration.yaml, line 5): secret 'db_url' is not defined in "
        "secrets.yaml"
    ]
