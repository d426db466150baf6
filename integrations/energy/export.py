"""TOU reports as CSV and Excel, with Chinese headers when the site language is zh-CN."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Final

from plantpulse.integrations.energy.const import PERIOD_NAMES_ZH, PERIODS

_HEADERS: Final = {
    "zh-CN": ("月份", "时段", "电量(kWh)", "占比(%)", "目标占比(%)", "电费(元)"),
    "en": ("month", "period", "kwh", "share_pct", "target_pct", "cost"),
}
_TOTAL: Final = {"zh-CN": "合计", "en": "total"}
_APPROXIMATE: Final = {
    "zh-CN": "注: 部分小时仅有小时统计且跨越时段边界, 已按时间比例拆分 (近似值)",
    "en": "note: some hours with only hourly statistics span a period change and were split "
          "in proportion to time (approximate)",
}


def _language(language: str) -> str:
    return "zh-CN" if language == "zh-CN" else "en"


def tou_rows(report: dict[str, Any], language: str) -> list[list[Any]]:
    """Header, one row per period, the total, and a note when the report is approximate."""
    lang = _language(language)
    rows: list[list[Any]] = [list(_HEADERS[lang])]
    for period in PERIODS:
        values = report["periods"][period.value]
        label = PERIOD_NAMES_ZH[period] if lang == "zh-CN" else period.value
        rows.append([report["month"], label, values["kwh"], values["share_pct"],
                     "" if values["target_pct"] is None else values["target_pct"],
                     values["cost"]])
    rows.append([report["month"], _TOTAL[lang], report["total_kwh"],
                 100.0 if report["total_kwh"] else 0.0, "", report["total_cost"]])
    if report.get("approximate"):
        rows.append([_APPROXIMATE[lang]])
    return rows


def tou_csv(report: dict[str, Any], language: str) -> str:
    """The report as CSV text."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(tou_rows(report, language))
    return out.getvalue()


def write_tou_xlsx(report: dict[str, Any], language: str, path: Path) -> None:
    """Write the report as an Excel workbook (blocking)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = report["month"]
    title = f"{report['name']} ({report['entity_id'] or report['node']})"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    for row in tou_rows(report, language):
        sheet.append(row)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEF", (10, 8, 16, 12, 14, 14), strict=True):
        sheet.column_dimensions[column].width = width
    book.save(path)
