"""Find integrations, validate their config blocks and set them up in dependency order.

Integrations live in `integrations/<domain>/` and `<config>/custom_integrations/<domain>/`,
each with `manifest.yaml` and an `__init__.py` holding `CONFIG_SCHEMA` and
`async_setup(hub, config) -> bool`. The hub's own components (http, recorder, logger) are set
up the same way. One integration failing is logged and shown as a notification; the others
still start.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import importlib.util
import logging
import re
import sys
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import ConfigIssue, humanize_invalid
from plantpulse.core.config.load import RawConfig, validate_block
from plantpulse.core.config.yaml_loader import YamlLoad, locate
from plantpulse.core.const import CORE_DOMAIN, CUSTOM_INTEGRATIONS_DIR, EVENT_COMPONENT_LOADED
from plantpulse.core.exceptions import PlantPulseError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

BUILTIN_PACKAGE: Final = "plantpulse.integrations"
BUILTIN_DIR: Final = Path(__file__).resolve().parent.parent / "integrations"


def builtin_modules_named(name: str) -> list[str]:
    """Dotted names of the built-in integrations' `<name>.py` modules (`cli`, `bench`), so the
    command line and the benchmark runner find what integrations add without naming them."""
    return [
        f"{BUILTIN_PACKAGE}.{path.parent.name}.{name}"
        for path in sorted(BUILTIN_DIR.glob(f"*/{name}.py"))
    ]
CUSTOM_PACKAGE: Final = "plantpulse_custom"
SETUP_TIMEOUT: Final = 120.0

# The hub's own components: configured by top-level keys like integrations, part of core.
CORE_COMPONENTS: Final = {
    "logger": "plantpulse.core.logger",
    "http": "plantpulse.core.http",
    "recorder": "plantpulse.core.recorder",
}

IOT_CLASSES: Final = (
    "local_polling", "local_push", "cloud_polling", "cloud_push", "calculated", "simulated",
)

MANIFEST_SCHEMA: Final = vol.Schema({
    vol.Required("domain"): cv.slug,
    vol.Required("name"): cv.string,
    vol.Optional("version"): cv.string,
    vol.Optional("dependencies", default=[]): [cv.slug],
    vol.Optional("after_dependencies", default=[]): [cv.slug],
    vol.Optional("requirements", default=[]): [cv.string],
    vol.Optional("iot_class"): vol.In(IOT_CLASSES),
    vol.Optional("codeowners", default=[]): [cv.string],
    vol.Optional("documentation"): cv.string,
}, extra=vol.ALLOW_EXTRA)


@dataclass(frozen=True)
class Manifest:
    """What `manifest.yaml` says about an integration."""

    domain: str
    name: str
    version: str | None = None
    dependencies: tuple[str, ...] = ()
    after_dependencies: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    iot_class: str | None = None
    codeowners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Integration:
    """An integration (or core component) that can be imported and set up."""

    manifest: Manifest
    module_name: str
    path: Path | None = None
    custom: bool = False

    @property
    def domain(self) -> str:
        """The config key and service domain."""
        return self.manifest.domain

    def import_module(self) -> types.ModuleType:
        """Import the integration's package."""
        if self.custom:
            _ensure_custom_package()
            if self.module_name not in sys.modules:
                assert self.path is not None
                spec = importlib.util.spec_from_file_location(
                    self.module_name, self.path / "__init__.py",
                    submodule_search_locations=[str(self.path)],
                )
                if spec is None or spec.loader is None:
                    raise ImportError(f"Cannot import custom integration from {self.path}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[self.module_name] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[self.module_name]
                    raise
            return sys.modules[self.module_name]
        return importlib.import_module(self.module_name)


def _ensure_custom_package() -> None:
    if CUSTOM_PACKAGE not in sys.modules:
        package = types.ModuleType(CUSTOM_PACKAGE)
        package.__path__ = []
        sys.modules[CUSTOM_PACKAGE] = package


def _read_manifest(folder: Path, custom: bool, issues: list[ConfigIssue]) -> Manifest | None:
    load = YamlLoad(folder)
    raw = load.load_file(folder / "manifest.yaml")
    issues.extend(
        ConfigIssue(folder.name, f"manifest: {item.message}", item.file, item.line)
        for item in load.issues
    )
    if raw is None:
        return None
    try:
        data = MANIFEST_SCHEMA(raw)
    except vol.Invalid as err:
        _file, line = locate(raw, tuple(getattr(err, "path", ())))
        issues.append(ConfigIssue(folder.name, f"manifest: {humanize_invalid(err)}",
                                  str(folder / "manifest.yaml"), line))
        return None
    if data["domain"] != folder.name:
        issues.append(ConfigIssue(folder.name, f"manifest domain '{data['domain']}' does not "
                                  f"match its folder '{folder.name}'", str(folder)))
        return None
    if custom and not data.get("version"):
        issues.append(ConfigIssue(folder.name, "a custom integration's manifest needs a "
                                  "'version'", str(folder / "manifest.yaml")))
        return None
    return Manifest(
        domain=data["domain"], name=data["name"], version=data.get("version"),
        dependencies=tuple(data["dependencies"]),
        after_dependencies=tuple(data["after_dependencies"]),
        requirements=tuple(data["requirements"]), iot_class=data.get("iot_class"),
        codeowners=tuple(data["codeowners"]),
    )


def discover_integrations(config_dir: Path, issues: list[ConfigIssue]) -> dict[str, Integration]:
    """Every integration available: built-in ones, overridden by custom ones of the same domain."""
    found: dict[str, Integration] = {
        domain: Integration(Manifest(domain, domain.capitalize()), module)
        for domain, module in CORE_COMPONENTS.items()
    }
    sources = [(BUILTIN_DIR, False), (config_dir / CUSTOM_INTEGRATIONS_DIR, True)]
    for base, custom in sources:
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if not (folder / "manifest.yaml").is_file() or folder.name.startswith((".", "_")):
                continue
            manifest = _read_manifest(folder, custom, issues)
            if manifest is None:
                continue
            if manifest.domain in CORE_COMPONENTS:
                issues.append(ConfigIssue(manifest.domain, "a custom integration cannot "
                                          "replace a core component", str(folder)))
                continue
            if custom and manifest.domain in found:
                _LOGGER.warning("Custom integration %s replaces the built-in one",
                                manifest.domain)
            module = (
                f"{CUSTOM_PACKAGE}.{manifest.domain}" if custom
                else f"{BUILTIN_PACKAGE}.{manifest.domain}"
            )
            found[manifest.domain] = Integration(manifest, module, folder, custom)
    return found


_REQUIREMENT_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def missing_requirements(integration: Integration) -> list[str]:
    """Requirements of the manifest that are not installed (the hub never pip-installs)."""
    missing = []
    for requirement in integration.manifest.requirements:
        match = _REQUIREMENT_NAME_RE.match(requirement)
        try:
            importlib.metadata.distribution(match.group(1) if match else requirement)
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    return missing


@dataclass
class SetupPlan:
    """What to set up, with which validated config, in which order; and what is wrong."""

    config_dir: Path
    integrations: dict[str, Integration] = field(default_factory=dict)
    configs: dict[str, Any] = field(default_factory=dict)
    modules: dict[str, types.ModuleType] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    waves: list[list[str]] = field(default_factory=list)

    def order(self) -> list[list[str]]:
        """Group domains so each group only depends on earlier ones; cycles fail."""
        remaining = set(self.modules)
        done: set[str] = set()
        waves = []
        while remaining:
            ready = sorted(
                domain for domain in remaining
                if all(dep in done or dep not in remaining for dep in self._needs(domain))
            )
            if not ready:
                cycle = ", ".join(sorted(remaining))
                for domain in sorted(remaining):
                    self.failed[domain] = f"circular dependency between {cycle}"
                    self.issues.append(ConfigIssue(domain, self.failed[domain]))
                    self.modules.pop(domain)
                break
            waves.append(ready)
            done.update(ready)
            remaining.difference_update(ready)
        return waves

    def _needs(self, domain: str) -> Iterable[str]:
        manifest = self.integrations[domain].manifest
        return (*manifest.dependencies,
                *(dep for dep in manifest.after_dependencies if dep in self.modules))


def prepare_setup(config_dir: Path, raw: RawConfig) -> SetupPlan:
    """Find, import and validate everything the config asks for (plus dependencies).

    Used by hub start and by `check-config`; imports code but starts nothing.
    """
    plan = SetupPlan(config_dir)
    available = discover_integrations(config_dir, plan.issues)
    wanted = [domain for domain in raw.blocks if domain != CORE_DOMAIN]
    queue = list(wanted)
    while queue:
        domain = queue.pop(0)
        if domain in plan.integrations or domain in plan.failed:
            continue
        integration = available.get(domain)
        if integration is None:
            file, line = locate(raw.blocks, (domain,))
            message = f"integration '{domain}' not found"
            plan.issues.append(ConfigIssue(domain, message, file, line))
            plan.failed[domain] = message
            continue
        plan.integrations[domain] = integration
        queue.extend(integration.manifest.dependencies)
    # Import everything before validating anything: a block may use what another integration
    # adds (an automation's trigger platform from `<integration>/trigger.py`).
    imported = {domain: module for domain, integration in plan.integrations.items()
                if (module := _import_one(plan, domain, integration)) is not None}
    for domain, module in imported.items():
        _validate_one(plan, domain, module, raw)
    changed = True
    while changed:  # a failure spreads to everything that depends on it, at any depth
        changed = False
        for domain, integration in plan.integrations.items():
            broken = [dep for dep in integration.manifest.dependencies if dep in plan.failed]
            if broken and domain not in plan.failed:
                plan.failed[domain] = f"its dependency {', '.join(broken)} failed"
                plan.modules.pop(domain, None)
                changed = True
    plan.waves = plan.order()
    return plan


def _import_one(
    plan: SetupPlan, domain: str, integration: Integration
) -> types.ModuleType | None:
    missing = missing_requirements(integration)
    if missing:
        plan.failed[domain] = (
            f"needs {', '.join(missing)}, which is not installed (pip install "
            + " ".join(repr(item) for item in missing) + ")"
        )
        plan.issues.append(ConfigIssue(domain, plan.failed[domain]))
        return None
    try:
        return integration.import_module()
    except Exception as err:
        _LOGGER.exception("Cannot import integration %s", domain)
        plan.failed[domain] = f"cannot be imported: {type(err).__name__}: {err}"
        plan.issues.append(ConfigIssue(domain, plan.failed[domain]))
        return None


def _validate_one(plan: SetupPlan, domain: str, module: types.ModuleType, raw: RawConfig) -> None:
    block = raw.blocks.get(domain)
    schema = getattr(module, "CONFIG_SCHEMA", None)
    if schema is None:
        validated, issues = block, []
    else:
        validated, issues = validate_block(domain, schema, block)
    # A second, blocking step an integration may need beyond its schema (files the config
    # names, such as blueprints): `validate_config(config_dir, validated) -> (config, issues)`.
    # It runs here, off the loop, so `check-config` reports what setup would.
    extra_validation = getattr(module, "validate_config", None)
    if extra_validation is not None and validated is not None:
        validated, extra_issues = extra_validation(plan.config_dir, validated)
        issues = [*issues, *extra_issues]
    plan.issues.extend(issues)
    if validated is None and schema is not None:
        plan.failed[domain] = "its configuration is invalid: " + "; ".join(
            issue.message for issue in issues
        )
        return
    plan.modules[domain] = module
    plan.configs[domain] = validated


async def async_setup_plan(hub: Hub, plan: SetupPlan) -> None:
    """Set up integrations wave by wave; failures are isolated and reported."""
    for domain, reason in plan.failed.items():
        _report_failure(hub, domain, reason)
    for wave in plan.waves:
        ready = [domain for domain in wave if not any(
            dep in plan.failed for dep in plan.integrations[domain].manifest.dependencies
        )]
        for domain in set(wave) - set(ready):
            plan.failed[domain] = "a dependency failed to set up"
            _report_failure(hub, domain, plan.failed[domain])
        results = await asyncio.gather(
            *(_async_setup_one(hub, plan, domain) for domain in ready)
        )
        for domain, error in zip(ready, results, strict=True):
            if error is not None:
                plan.failed[domain] = error
                _report_failure(hub, domain, error)


async def _async_setup_one(hub: Hub, plan: SetupPlan, domain: str) -> str | None:
    module = plan.modules[domain]
    try:
        ok = await asyncio.wait_for(module.async_setup(hub, plan.configs[domain]), SETUP_TIMEOUT)
    except TimeoutError:
        return f"setup took longer than {SETUP_TIMEOUT:.0f} s"
    except PlantPulseError as err:
        return str(err)
    except Exception as err:
        _LOGGER.exception("Error setting up %s", domain)
        return f"{type(err).__name__}: {err}"
    if ok is False:
        return "setup reported failure (see the log)"
    hub.components.add(domain)
    hub.bus.async_fire(EVENT_COMPONENT_LOADED, {"component": domain})
    return None


def _report_failure(hub: Hub, domain: str, reason: str) -> None:
    _LOGGER.error("Integration %s not set up: %s", domain, reason)
    hub.notifications.async_create(
        f"Integration '{domain}' was not set up: {reason}",
        title="Integration failed", notification_id=f"setup_failed_{domain}",
    )
