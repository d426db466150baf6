"""The `plantpulse` command: run, check-config, user, token, backup, restore, bench, import,
and the commands integrations add (their `cli.py`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import logging
import signal
import sys
from pathlib import Path

from plantpulse.core.const import VERSION
from plantpulse.core.exceptions import PlantPulseError

_LOGGER = logging.getLogger("plantpulse")
LOG_FORMAT = "%(asctime)s %(levelname)s (%(threadName)s) [%(name)s] %(message)s"


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", metavar="DIR",
        help="config dir (default: $PLANTPULSE_CONFIG, else ~/.plantpulse)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="plantpulse", description="PlantPulse monitoring hub")
    parser.add_argument("--version", action="version", version=f"plantpulse {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the hub (seeds an empty config dir with the demo)")
    _add_config_option(run)
    run.add_argument("--verbose", "-v", action="store_true", help="debug logging")

    check = commands.add_parser("check-config", help="validate the configuration; exit 1 on errors")
    _add_config_option(check)
    check.add_argument("--json", action="store_true", help="print the problems as JSON")

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", required=True, metavar="ACTION")
    user_add = user.add_parser("add", help="add a user; the password is asked or read from stdin")
    user_add.add_argument("name")
    role = user_add.add_mutually_exclusive_group()
    role.add_argument("--admin", action="store_const", const="admin", dest="role",
                      help="same as --role admin")
    role.add_argument("--role", choices=("admin", "operator", "viewer"),
                      help="what the user may do (default: viewer)")
    _add_config_option(user_add)

    token = commands.add_parser("token", help="manage access tokens").add_subparsers(
        dest="token_command", required=True, metavar="ACTION")
    token_create = token.add_parser("create", help="create a long-lived access token")
    token_create.add_argument("--user", required=True, help="the user the token acts as")
    token_create.add_argument("--name", required=True, help="a label to recognise the token")
    token_create.add_argument("--days", type=int, default=3650, help="validity (default 3650)")
    _add_config_option(token_create)

    backup = commands.add_parser("backup", help="write a backup archive of the config dir")
    backup.add_argument("--output", "-o", metavar="FILE", help="archive path (.tar.gz)")
    _add_config_option(backup)

    restore = commands.add_parser("restore", help="restore a backup archive (hub stopped)")
    restore.add_argument("archive", metavar="FILE")
    restore.add_argument("--force", action="store_true",
                         help="replace a config dir that is not empty")
    _add_config_option(restore)

    bench = commands.add_parser("bench", help="run a benchmark and print its figure")
    bench.add_argument("name", help="benchmark name, or 'list'")
    bench.add_argument("--runs", type=int, default=3, help="repetitions; the median is printed")
    bench.add_argument("--config", "-c", metavar="DIR",
                       help="boot only: boot this config dir (its hub must be stopped) instead "
                       "of a throwaway one")
    importer = commands.add_parser(
        "import", help="import meter history from CSV into long-term statistics",
        description="CSV header: entity_id,timestamp,value[,kind]; kind 'reading' (cumulative "
        "meter reading, default) or 'interval' (consumption in the interval ending at the "
        "timestamp); ISO 8601 timestamps with offset. Bad rows are listed and nothing is "
        "imported unless --partial. With the hub running, goes through its API (admin token).")
    importer.add_argument("file", metavar="FILE.csv")
    importer.add_argument("--unit", help="unit of statistics the import creates (default kWh)")
    importer.add_argument("--partial", action="store_true",
                          help="import the good rows and skip (list) the bad ones")
    importer.add_argument("--token", help="an admin's access token, to import through a "
                          "running hub (default: $PLANTPULSE_TOKEN)")
    importer.add_argument("--url", help="the running hub's address (default: "
                          "http://127.0.0.1:<http server_port>)")
    _add_config_option(importer)
    _add_integration_commands(commands)
    return parser


def _add_integration_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Let each built-in integration with a `cli.py` add its subcommands.

    `cli.py` defines `add_commands(commands, add_config_option)`: it adds parsers to
    `commands` and gives each `set_defaults(handler=func)`, where `func(args) -> int` runs the
    command (raising PlantPulseError for a clear one-line error). Keep imports inside the
    handlers: every `plantpulse` invocation imports these modules.
    """
    from plantpulse.core.loader import builtin_modules_named

    for name in builtin_modules_named("cli"):
        importlib.import_module(name).add_commands(commands, _add_config_option)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `plantpulse` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format=LOG_FORMAT, stream=sys.stderr,
    )
    handler = getattr(args, "handler", None) or COMMANDS[args.command]
    try:
        return handler(args)
    except PlantPulseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def cmd_run(args: argparse.Namespace) -> int:
    """Run the hub until SIGTERM or SIGINT."""
    from plantpulse.core.bootstrap import resolve_config_dir, seed_config_dir
    from plantpulse.core.storage import ConfigDirLock

    config_dir = resolve_config_dir(args.config)
    if seed_config_dir(config_dir):
        _LOGGER.info("Created %s from the bundled demo plant configuration", config_dir)
    with ConfigDirLock(config_dir):
        return asyncio.run(_async_run(config_dir, args.verbose))


async def _async_run(config_dir: Path, verbose: bool) -> int:
    from plantpulse.core.bootstrap import async_setup_hub

    hub = await async_setup_hub(config_dir)
    if verbose:  # the command line wins over the `logger:` block
        logging.getLogger().setLevel(logging.DEBUG)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: hub.async_create_task(hub.async_stop()))
    await hub.async_start()
    # What exists now lives as long as the hub: keep it out of full garbage collections, whose
    # pauses would otherwise grow with the heap and stall the loop during bursts.
    gc.freeze()
    _LOGGER.info("PlantPulse %s running with config dir %s", VERSION, config_dir)
    if "http" in hub.config and "http" not in hub.components:
        _LOGGER.error("The web page and API are NOT running (see the error above); the rest "
                      "of the hub runs and records")
    exit_code = await hub.async_wait_stopped()
    _LOGGER.info("PlantPulse stopped")
    return exit_code


def cmd_check_config(args: argparse.Namespace) -> int:
    """Print every configuration problem; exit 1 when there is any."""
    from plantpulse.core.bootstrap import resolve_config_dir, site_from_raw
    from plantpulse.core.config.errors import without_consequences
    from plantpulse.core.config.load import read_config_dir
    from plantpulse.core.loader import prepare_setup

    config_dir = resolve_config_dir(args.config)
    if not config_dir.is_dir():
        print(f"error: config dir {config_dir} does not exist", file=sys.stderr)
        return 1
    logging.getLogger().setLevel(logging.CRITICAL)
    raw = read_config_dir(config_dir)
    _site, site_issues = site_from_raw(raw)
    plan = prepare_setup(config_dir, raw)
    issues = without_consequences([*raw.issues, *site_issues, *plan.issues])
    failed_without_issue = [
        f"Integration '{domain}' would not be set up: {reason}"
        for domain, reason in plan.failed.items()
        if not any(issue.domain == domain for issue in issues)
    ]
    if args.json:
        print(json.dumps({
            "valid": not issues and not failed_without_issue,
            "issues": [issue.as_dict() for issue in issues],
            "failed": plan.failed,
            "integrations": sorted(plan.modules),
        }, ensure_ascii=False, indent=2))
    else:
        for issue in issues:
            print(issue)
        for line in failed_without_issue:
            print(line)
        if not issues and not failed_without_issue:
            print(f"Configuration valid: {', '.join(sorted(plan.modules)) or 'no integrations'}")
    return 1 if issues or failed_without_issue else 0


def cmd_user(args: argparse.Namespace) -> int:
    """`user add`."""
    from plantpulse.core.auth.cli import user_add
    from plantpulse.core.bootstrap import resolve_config_dir

    return user_add(resolve_config_dir(args.config), args.name, args.role or "viewer",
                    sys.stdin, sys.stdout)


def cmd_token(args: argparse.Namespace) -> int:
    """`token create`."""
    from plantpulse.core.auth.cli import token_create
    from plantpulse.core.bootstrap import resolve_config_dir

    return token_create(resolve_config_dir(args.config), args.user, args.name, args.days,
                        sys.stdout)


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a backup archive."""
    from plantpulse.core.backup import create_backup
    from plantpulse.core.bootstrap import resolve_config_dir

    archive = create_backup(resolve_config_dir(args.config),
                            Path(args.output) if args.output else None)
    print(archive)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup archive into a config dir."""
    from plantpulse.core.backup import restore_backup
    from plantpulse.core.bootstrap import resolve_config_dir

    config_dir = resolve_config_dir(args.config)
    restore_backup(Path(args.archive), config_dir, force=args.force)
    print(f"Restored {args.archive} into {config_dir}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run a benchmark, or list them."""
    from plantpulse.core.bench import BenchOptions, load_benchmarks, run_benchmark

    logging.getLogger().setLevel(logging.WARNING)
    benchmarks = load_benchmarks()
    if args.name == "list":
        for bench in benchmarks.values():
            print(f"{bench.name:22} {bench.unit:10} {bench.description}")
        return 0
    if args.name not in benchmarks:
        print(f"error: unknown benchmark {args.name!r}; try 'plantpulse bench list'",
              file=sys.stderr)
        return 2
    options = BenchOptions(config_dir=Path(args.config).expanduser() if args.config else None)
    run_benchmark(args.name, max(1, args.runs), options, sys.stdout)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import meter history from CSV."""
    from plantpulse.core.bootstrap import resolve_config_dir
    from plantpulse.core.recorder.import_cli import run_import

    logging.getLogger().setLevel(logging.WARNING)
    return run_import(resolve_config_dir(args.config), Path(args.file), unit=args.unit,
                      partial=args.partial, token=args.token, url=args.url,
                      stdout=sys.stdout, stderr=sys.stderr)


COMMANDS = {
    "run": cmd_run,
    "check-config": cmd_check_config,
    "user": cmd_user,
    "token": cmd_token,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "bench": cmd_bench,
    "import": cmd_import,
}

if __name__ == "__main__":
    sys.exit(main())
