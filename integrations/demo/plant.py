"""The demo plant as data: areas, devices, shift schedules and a balanced tree of meters.

A small grinding-and-finishing plant on one 10 kV incomer. It reproduces the source deck's
energy cases (PRODUCT.md E8) so the analyses have something to find:

- two identical 800 kW circulating pumps, #1 running about 28 kW above #3 (a valve fault;
  the deck: 20-30 kW, 675 kWh/day);
- a vertical mill whose power follows its throughput at about 23.5 kWh/t;
- the mill's induced-draft fan, which keeps running 30 minutes after each mill stop (the
  deck: 250 kWh/day lost to the stop delay);
- an anodizing line whose auxiliaries stay on at a steady 42 kW from 17:00 to 23:00 after
  the shift has ended (the deck: 75,600 kWh/year);
- a valley-tariff night run of the grinding line (00:00-06:00 on weekdays).

Every parent meter reads the sum of its children plus a small line and transformer loss
(1-3 %), so a meter balance finds a small unexplained loss. Times are local to the site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property
from typing import Final


class Kind(StrEnum):
    """What a meter measures, which decides its sensors and units."""

    ELECTRICITY = "electricity"
    GAS = "gas"
    WATER = "water"
    PRODUCTION = "production"


@dataclass(frozen=True)
class Names:
    """A name in the two site languages."""

    zh: str
    en: str

    def pick(self, language: str) -> str:
        """The name for a site language (`zh-CN` or `en`)."""
        return self.zh if language == "zh-CN" else self.en


@dataclass(frozen=True)
class Period:
    """A stretch of a day something runs, in hours after local midnight.

    `end` may pass 24 for a period that runs into the next morning; `start` may be negative
    for one that begins the evening before.
    """

    start: float
    end: float
    level: float = 1.0


@dataclass(frozen=True)
class Schedule:
    """When something runs on Monday-Friday, Saturday and Sunday, with its ramps in minutes."""

    weekdays: tuple[Period, ...] = ()
    saturday: tuple[Period, ...] = ()
    sunday: tuple[Period, ...] = ()
    ramp_up: float = 10.0
    ramp_down: float = 10.0

    def periods(self, weekday: int) -> tuple[Period, ...]:
        """The periods of a day; `weekday` counts from Monday = 0."""
        if weekday < 5:
            return self.weekdays
        return self.saturday if weekday == 5 else self.sunday

    def extended(
        self, before: float, after: float, ramp_up: float, ramp_down: float
    ) -> Schedule:
        """This schedule started `before` minutes earlier and stopped `after` minutes later."""

        def widen(periods: tuple[Period, ...]) -> tuple[Period, ...]:
            return tuple(
                replace(period, start=period.start - before / 60, end=period.end + after / 60)
                for period in periods
            )

        return Schedule(widen(self.weekdays), widen(self.saturday), widen(self.sunday),
                        ramp_up, ramp_down)


def every_day(*periods: Period, ramp_up: float = 10.0, ramp_down: float = 10.0) -> Schedule:
    """A schedule that is the same on all seven days."""
    return Schedule(periods, periods, periods, ramp_up, ramp_down)


@dataclass(frozen=True)
class Part:
    """A scheduled part of a load: `amount` (kW, m³/h or t/h) times the schedule's level."""

    schedule: str
    amount: float


@dataclass(frozen=True)
class Profile:
    """How a leaf meter's rate moves over the day and week.

    rate = (base × daily swing + scheduled parts + per_unit × rate of `follows` + excess)
           × (1 + noise × fast AR(1) + drift × slow AR(1))

    Meters naming the same `drift_stream` share their slow drift: identical machines in one
    system (the circulating pumps) drift together, so the gap between them stays steady.
    """

    base: float = 0.0
    parts: tuple[Part, ...] = ()
    follows: str | None = None
    per_unit: float = 0.0
    swing: float = 0.0
    excess: float = 0.0
    noise: float = 0.01
    drift: float = 0.01
    drift_stream: str | None = None


@dataclass(frozen=True)
class Device:
    """A simulated device: a meter, or a line with its meter and production counter."""

    key: str
    names: Names
    area: str
    model: Names


@dataclass(frozen=True)
class Meter:
    """One metered quantity with a rate and a running total.

    A leaf has a `profile`; a parent reads the sum of its children times (1 + `loss`).
    """

    key: str
    device: str
    kind: Kind
    profile: Profile | None = None
    parent: str | None = None
    loss: float = 0.0


@dataclass(frozen=True)
class Plant:
    """The whole simulated plant."""

    areas: Mapping[str, Names]
    devices: tuple[Device, ...]
    schedules: Mapping[str, Schedule]
    meters: tuple[Meter, ...]

    @cached_property
    def _meters_by_key(self) -> dict[str, Meter]:
        return {meter.key: meter for meter in self.meters}

    def meter(self, key: str) -> Meter:
        """A meter by key."""
        return self._meters_by_key[key]

    def device(self, key: str) -> Device:
        """A device by key."""
        return next(device for device in self.devices if device.key == key)

    def children(self, key: str) -> list[Meter]:
        """The meters directly below a meter in the tree."""
        return [meter for meter in self.meters if meter.parent == key]

    @cached_property
    def parents(self) -> list[Meter]:
        """Meters that read the sum of their children, deepest first."""
        def depth(meter: Meter) -> int:
            return 0 if meter.parent is None else 1 + depth(self.meter(meter.parent))

        found = [meter for meter in self.meters if meter.profile is None]
        return sorted(found, key=depth, reverse=True)


# The deck's case figures, as this plant reproduces them.
PUMP_RUNNING_KW: Final = 560.0
PUMP_FAULT_EXCESS_KW: Final = 28.0
MILL_THROUGHPUT_T_PER_H: Final = 20.0
MILL_NO_LOAD_KW: Final = 90.0
MILL_KWH_PER_T: Final = 19.0  # on top of the no-load share: 90/20 + 19 = 23.5 kWh/t
FAN_KW: Final = 250.0
FAN_STOP_DELAY_MINUTES: Final = 30.0
ANODIZING_BASE_KW: Final = 1.5
ANODIZING_AUX_KW: Final = 40.5  # with the base, the line meter reads 42 kW after the shift

WORKDAY_SHIFT: Final = (Period(8, 17),)
GRINDING: Final = Schedule(
    weekdays=(Period(0, 6), *WORKDAY_SHIFT),  # a valley-tariff night run, then the day shift
    saturday=(Period(8, 12),),
    ramp_up=20, ramp_down=5,
)

SCHEDULES: Final[Mapping[str, Schedule]] = {
    "grinding": GRINDING,
    # The ID fan starts before the mill and, by the plant's habit, keeps running for
    # FAN_STOP_DELAY_MINUTES after the mill has run down.
    "mill_fan": GRINDING.extended(before=10, after=GRINDING.ramp_down + FAN_STOP_DELAY_MINUTES,
                                  ramp_up=2, ramp_down=1),
    "day_shift": Schedule(WORKDAY_SHIFT, (Period(8, 17, 0.6),)),
    "anodizing": Schedule(WORKDAY_SHIFT, (Period(8, 17, 0.6),), ramp_up=15),
    # Rinse pumps, exhaust fans and the chiller: on before the shift, left on until 23:00.
    "anodizing_aux": Schedule((Period(7.5, 23),), (Period(7.5, 23),), ramp_up=5, ramp_down=2),
    "assembly": Schedule(
        (Period(8, 12), Period(12, 13, 0.3), Period(13, 17)), (Period(8, 12),)
    ),
    "office": Schedule((Period(8, 18),), (Period(8, 12, 0.4),), ramp_up=15, ramp_down=15),
    "night_lighting": every_day(Period(18.5, 30.5), ramp_up=5, ramp_down=5),
    "canteen": Schedule((Period(10.5, 12.5), Period(16.5, 18)), (Period(10.5, 12.5),),
                        ramp_down=20),
}

AREAS: Final[Mapping[str, Names]] = {
    "switch_room": Names("配电室", "Switch room"),
    "pump_house": Names("循环水泵房", "Pump house"),
    "workshop_1": Names("一车间", "Workshop 1"),
    "workshop_2": Names("二车间", "Workshop 2"),
    "office": Names("办公楼", "Office building"),
    "utilities": Names("公用工程", "Utilities"),
}

_ENERGY_METER: Final = Names("模拟三相电能表 (simulated)", "Simulated three-phase energy meter")
_LINE_METER: Final = Names("模拟电能表与产量计数器 (simulated)",
                           "Simulated energy meter and production counter")

DEVICES: Final = (
    Device("main", Names("总进线", "Main incomer"), "switch_room",
           Names("模拟 10 kV 进线计量柜, 1# 主变 2500 kVA (simulated)",
                 "Simulated 10 kV incomer meter, transformer 1, 2500 kVA")),
    Device("pump_house", Names("循环水泵房进线", "Pump house feeder"), "pump_house",
           _ENERGY_METER),
    Device("pump_1", Names("一号循环泵", "Circulating pump 1"), "pump_house", _ENERGY_METER),
    Device("pump_3", Names("三号循环泵", "Circulating pump 3"), "pump_house", _ENERGY_METER),
    Device("workshop_1", Names("一车间进线", "Workshop 1 feeder"), "workshop_1", _ENERGY_METER),
    Device("grinding_line", Names("一号粉磨线", "Grinding line 1"), "workshop_1", _LINE_METER),
    Device("mill", Names("一号立磨", "Vertical mill 1"), "workshop_1", _ENERGY_METER),
    Device("mill_fan", Names("立磨引风机", "Mill ID fan"), "workshop_1", _ENERGY_METER),
    Device("compressor", Names("空压机", "Air compressor"), "workshop_1", _ENERGY_METER),
    Device("workshop_2", Names("二车间进线", "Workshop 2 feeder"), "workshop_2", _ENERGY_METER),
    Device("anodizing_line", Names("阳极氧化线", "Anodizing line"), "workshop_2", _LINE_METER),
    Device("assembly_line", Names("装配线", "Assembly line"), "workshop_2", _LINE_METER),
    Device("office", Names("办公照明", "Office and lighting"), "office", _ENERGY_METER),
    Device("gas", Names("天然气总表", "Natural gas meter"), "utilities",
           Names("模拟燃气表 (simulated)", "Simulated gas meter")),
    Device("water", Names("自来水总表", "Water meter"), "utilities",
           Names("模拟水表 (simulated)", "Simulated water meter")),
)

_E: Final = Kind.ELECTRICITY
_PUMP: Final = Profile(base=PUMP_RUNNING_KW, swing=0.02, noise=0.002, drift=0.004,
                       drift_stream="circulating_water")

METERS: Final = (
    # The electricity tree, top down.
    Meter("main", "main", _E, parent=None, loss=0.025),
    Meter("pump_house", "pump_house", _E, parent="main", loss=0.012),
    Meter("pump_1", "pump_1", _E, replace(_PUMP, excess=PUMP_FAULT_EXCESS_KW), "pump_house"),
    Meter("pump_3", "pump_3", _E, _PUMP, "pump_house"),
    Meter("workshop_1", "workshop_1", _E, parent="main", loss=0.018),
    Meter("grinding_line", "grinding_line", _E, parent="workshop_1", loss=0.012),
    Meter("mill", "mill", _E, Profile(
        parts=(Part("grinding", MILL_NO_LOAD_KW),), follows="grinding_line_output",
        per_unit=MILL_KWH_PER_T, noise=0.01, drift=0.005), "grinding_line"),
    Meter("mill_fan", "mill_fan", _E, Profile(
        parts=(Part("mill_fan", FAN_KW),), noise=0.008, drift=0.01), "grinding_line"),
    Meter("compressor", "compressor", _E, Profile(
        base=22, parts=(Part("day_shift", 55), Part("grinding", 30)), noise=0.04, drift=0.03),
        "workshop_1"),
    Meter("workshop_2", "workshop_2", _E, parent="main", loss=0.018),
    Meter("anodizing_line", "anodizing_line", _E, Profile(
        base=ANODIZING_BASE_KW,
        parts=(Part("anodizing_aux", ANODIZING_AUX_KW), Part("anodizing", 150)),
        noise=0.01, drift=0.01), "workshop_2"),
    Meter("assembly_line", "assembly_line", _E, Profile(
        base=3, parts=(Part("assembly", 85),), noise=0.03, drift=0.02), "workshop_2"),
    Meter("office", "office", _E, Profile(
        base=2, parts=(Part("office", 20), Part("night_lighting", 6)), noise=0.03, drift=0.02),
        "main"),
    # Production counters; the mill and the gas meter follow the grinding throughput.
    Meter("grinding_line_output", "grinding_line", Kind.PRODUCTION, Profile(
        parts=(Part("grinding", MILL_THROUGHPUT_T_PER_H),), noise=0.02, drift=0.03)),
    Meter("anodizing_line_output", "anodizing_line", Kind.PRODUCTION, Profile(
        parts=(Part("anodizing", 1.2),), noise=0.03, drift=0.03)),
    Meter("assembly_line_output", "assembly_line", Kind.PRODUCTION, Profile(
        parts=(Part("assembly", 0.8),), noise=0.03, drift=0.03)),
    # Utilities: the gas feeds the mill's hot-air furnace and the canteen; the water is mostly
    # cooling-tower make-up (more on warm afternoons) and the anodizing rinse.
    Meter("gas", "gas", Kind.GAS, Profile(
        base=3, parts=(Part("canteen", 12),), follows="grinding_line_output", per_unit=6.0,
        noise=0.02, drift=0.03)),
    Meter("water", "water", Kind.WATER, Profile(
        base=2.7, swing=0.18, parts=(Part("anodizing", 4.0), Part("office", 0.6)),
        noise=0.03, drift=0.05)),
)

PLANT: Final = Plant(AREAS, DEVICES, SCHEDULES, METERS)
