"""Config loading: include tags, secrets, packages, and errors that name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import voluptuous as vol

from plantpulse.core.config.load import read_config_dir, validate_block
from tests.conftest import write_config


def issues_text(raw) -> list[str]:
    return [str(issue) for issue in raw.issues]


def test_include_secret_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PP_TEST_HOST", "10.0.0.5")
    write_config(tmp_path, """
        plantpulse:
          name: 测试工厂
        http: !include http.yaml
        meters: !include_dir_list meters
        named: !include_dir_named named
        merged: !include_dir_merge_named merged
        """, {
        "http.yaml": "server_port: !secret port\nserver_host: !env_var PP_TEST_HOST\n",
        "secrets.yaml": "port: 8131\n",
        "meters/a.yaml": "name: A\n",
        "meters/b.yaml": "name: B\n",
        "named/pump.yaml": "power: 5\n",
        "merged/one.yaml": "x: 1\n",
        "merged/two.yaml": "y: 2\n",
    })
    raw = read_config_dir(tmp_path)
    assert raw.issues == []
    assert raw.blocks["plantpulse"]["name"] == "测试工厂"
    assert raw.blocks["http"] == {"server_port": 8131, "server_host": "10.0.0.5"}
    assert raw.blocks["meters"] == [{"name": "A"}, {"name": "B"}]
    assert raw.blocks["named"] == {"pump": {"power": 5}}
    assert raw.blocks["merged"] == {"x": 1, "y": 2}


def test_env_var_default_and_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PP_UNSET", raising=False)
    write_config(tmp_path, """
        a: !env_var PP_UNSET fallback
        b: !env_var PP_UNSET
        """)
    raw = read_config_dir(tmp_path)
    assert raw.blocks["a"] == "fallback"
    assert issues_text(raw) == [
        "Invalid config (configuration.yaml, line 3): environment variable PP_UNSET is not set "
        "and has no default"
    ]


def test_missing_secret_names_file_and_line(tmp_path: Path) -> None:
    write_config(tmp_path, "http:\n  server_port: 8130\nmqtt:\n  password: !secret mqtt_pw\n",
                 {"secrets.yaml": "other: 1\n"})
    raw = read_config_dir(tmp_path)
    assert issues_text(raw) == [
        "Invalid config (configuration.yaml, line 4): secret 'mqtt_pw' is not defined in "
        "secrets.yaml"
    ]
    assert raw.blocks["http"] == {"server_port": 8130}


def test_secret_found_in_parent_folder(tmp_path: Path) -> None:
    write_config(tmp_path, "sub: !include sub/part.yaml\n", {
        "secrets.yaml": "token: abc\n",
        "sub/part.yaml": "token: !secret token\n",
    })
    assert read_config_dir(tmp_path).blocks["sub"] == {"token": "abc"}


def test_include_loop_is_reported(tmp_path: Path) -> None:
    write_config(tmp_path, "a: !include a.yaml\n", {
        "a.yaml": "b: !include b.yaml\n",
        "b.yaml": "a: !include a.yaml\n",
    })
    raw = read_config_dir(tmp_path)
    assert len(raw.issues) == 1
    issue = raw.issues[0]
    assert (issue.file, issue.line) == ("b.yaml", 1)
    assert issue.message == "include loop: configuration.yaml -> a.yaml -> b.yaml -> a.yaml"


def test_syntax_error_in_included_file_keeps_the_rest(tmp_path: Path) -> None:
    write_config(tmp_path, "good: 1\nbad: !include broken.yaml\n",
                 {"broken.yaml": "key: [unclosed\nother: 2\n"})
    raw = read_config_dir(tmp_path)
    assert raw.readable
    assert raw.blocks["good"] == 1
    assert raw.blocks["bad"] is None
    assert raw.issues[0].file == "broken.yaml"
    assert raw.issues[0].message.startswith("YAML syntax error")


def test_syntax_error_in_main_file_is_unreadable(tmp_path: Path) -> None:
    write_config(tmp_path, "a: 1\n  b: 2\n")
    raw = read_config_dir(tmp_path)
    assert not raw.readable
    assert raw.issues[0].file == "configuration.yaml"
    assert raw.issues[0].line == 2


def test_duplicate_key_reported(tmp_path: Path) -> None:
    write_config(tmp_path, "a: 1\nb: 2\na: 3\n")
    raw = read_config_dir(tmp_path)
    assert issues_text(raw) == [
        "Invalid config (configuration.yaml, line 3): duplicate key 'a' (first at line 1)"
    ]


def test_packages_merge_lists_and_mappings(tmp_path: Path) -> None:
    write_config(tmp_path, """
        plantpulse:
          packages: !include_dir_named packages
        things:
          - name: main
        settings:
          a: 1
        """, {
        "packages/energy.yaml": "things:\n  - name: from_package\nsettings:\n  b: 2\n  a: 9\n",
    })
    raw = read_config_dir(tmp_path)
    assert raw.blocks["things"] == [{"name": "main"}, {"name": "from_package"}]
    assert raw.blocks["settings"] == {"a": 1, "b": 2}
    assert "packages" not in raw.blocks["plantpulse"]
    assert issues_text(raw) == [
        "Invalid config for 'settings' (packages/energy.yaml, line 5): package 'energy': key "
        "'a' is already defined at packages->energy->settings->a"
    ]


ITEM = vol.Schema({
    vol.Required("name"): str,
    vol.Optional("scale", default=1.0): vol.Coerce(float),
})
BLOCK = vol.Schema({
    vol.Optional("interval", default=10): vol.Coerce(int),
    vol.Required("host"): str,
    vol.Optional("sensors", default=[]): [ITEM],
})


def test_only_the_broken_item_is_dropped(tmp_path: Path) -> None:
    write_config(tmp_path, """
        modbus:
          host: 10.0.0.9
          interval: often
          sensors:
            - name: ok1
            - name: bad
              scale: abc
            - name: ok2
              unknown_key: 1
            - name: ok3
              scale: 2
        """)
    raw = read_config_dir(tmp_path)
    validated, issues = validate_block("modbus", BLOCK, raw.blocks["modbus"])
    assert validated == {
        "host": "10.0.0.9",
        "interval": 10,
        "sensors": [{"name": "ok1", "scale": 1.0}, {"name": "ok3", "scale": 2.0}],
    }
    texts = [str(issue) for issue in sorted(issues, key=lambda issue: issue.line)]
    assert texts == [
        "Invalid config for 'modbus' (configuration.yaml, line 4): expected int for 'interval' "
        "(got 'often') at interval",
        "Invalid config for 'modbus' (configuration.yaml, line 8): expected float for 'scale' "
        "(got 'abc') at sensors->1->scale",
        "Invalid config for 'modbus' (configuration.yaml, line 10): unknown key 'unknown_key' "
        "at sensors->2->unknown_key",
    ]


def test_block_broken_at_root_is_dropped(tmp_path: Path) -> None:
    write_config(tmp_path, "modbus:\n  interval: 5\n")
    raw = read_config_dir(tmp_path)
    validated, issues = validate_block("modbus", BLOCK, raw.blocks["modbus"])
    assert validated is None
    assert str(issues[0]) == (
        "Invalid config for 'modbus' (configuration.yaml, line 2): required key 'host' is "
        "missing at host"
    )


def test_secret_values_are_not_echoed(tmp_path: Path) -> None:
    write_config(tmp_path, "modbus:\n  host: h\n  interval: !secret pin\n",
                 {"secrets.yaml": "pin: hunter2\n"})
    raw = read_config_dir(tmp_path)
    _validated, issues = validate_block("modbus", BLOCK, raw.blocks["modbus"])
    assert "hunter2" not in str(issues[0])
    assert issues[0].line == 3
