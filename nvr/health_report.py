"""The post chief's camera health report, in Vietnamese: a CSV (one row per camera, for a spreadsheet) and a
printable HTML page (self-contained: no script, font or stylesheet from elsewhere), worst camera first."""

from __future__ import annotations

import csv
import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nvr.health import MAX_LISTED, CameraHealth, Period
from storage.timeline import UNKNOWN_GAP

TAMPER_NAMES = {"tamper_covered": "Bị che", "tamper_moved": "Bị xoay hướng", "tamper_defocus": "Bị mờ"}
# the recorder's words for the usual outages (ingest/worker.py), by how they begin; others are shown as they are
REASONS = (
    (UNKNOWN_GAP, "Không ghi hình (dịch vụ không chạy)"),
    ("stream ended", "Camera ngắt kết nối"),
    ("no data from the camera", "Camera không gửi dữ liệu (quá thời gian chờ)"),
    ("the camera did not answer", "Camera không trả lời (quá thời gian kết nối)"),
    ("opening the stream failed", "Không mở được luồng video"),
    ("reading the stream failed", "Lỗi khi đọc luồng video"),
)
CSV_COLUMNS = ("Mã camera", "Tên camera", "Vị trí", "Hoạt động (%)", "Số lần mất hình", "Thời gian mất hình (giây)",
               "Số lần bị che/xoay/mờ", "Thời gian bị che/xoay/mờ (giây)", "Hình ảnh cuối",
               "Không có hình từ đó (giây)")


@dataclass(frozen=True)
class HealthReport:
    station: str  # the station's id
    title: str  # its name for people (may be empty)
    start_ms: int
    end_ms: int  # also when the report was made
    zone: ZoneInfo
    cameras: list[CameraHealth]  # worst first

    def stem(self) -> str:
        return f"camera-health-{self.station}-{self._local(self.end_ms):%Y-%m-%d}"

    def when(self, ms: int) -> str:
        return f"{self._local(ms):%H:%M %d/%m/%Y}"

    def _local(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(self.zone)


def duration(ms: int) -> str:
    """`2 ngày 3 giờ`, `3 giờ 5 phút`, `12 phút 30 giây`, `45 giây`: the two largest units."""
    seconds = round(ms / 1000)
    parts = [(seconds // 86_400, "ngày"), (seconds // 3600 % 24, "giờ"), (seconds // 60 % 60, "phút"),
             (seconds % 60, "giây")]
    first = next((i for i, (count, _unit) in enumerate(parts) if count), 0)
    return " ".join(f"{count} {unit}" for count, unit in parts[first:first + 2] if count) or "0 giây"


def reason(text: str) -> str:
    return next((vietnamese for english, vietnamese in REASONS if text.startswith(english)), text)


def write_report(report: HealthReport, folder: Path) -> tuple[Path, Path]:
    """Write `<stem>.csv` and `<stem>.html` into `folder` (created if missing); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = folder / f"{report.stem()}.csv", folder / f"{report.stem()}.html"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as file:  # the BOM: spreadsheets read UTF-8
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_row(report, health) for health in report.cameras)
    html_path.write_text(render_html(report), encoding="utf-8")
    return csv_path, html_path


def _csv_row(report: HealthReport, health: CameraHealth) -> list[object]:
    camera, last = health.camera, health.last_picture_ms
    return [camera.name, camera.title, camera.location,
            "" if health.uptime_percent is None else health.uptime_percent, len(health.outages),
            round(health.down_ms / 1000), len(health.tampers), round(health.tamper_ms / 1000),
            "" if last is None else report.when(last), "" if last is None else round((report.end_ms - last) / 1000)]


def render_html(report: HealthReport) -> str:
    title = "Báo cáo tình trạng camera"
    days = (report.end_ms - report.start_ms) / 86_400_000
    rows = "".join(_summary_row(report, number, health) for number, health in enumerate(report.cameras, 1))
    details = "".join(_details(report, health) for health in report.cameras)
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>{title}: {_e(report.title or report.station)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<p class="meta">{_e(report.title or report.station)}<br>
Từ {report.when(report.start_ms)} đến {report.when(report.end_ms)} ({days:g} ngày). Camera kém nhất ở đầu.</p>
<table>
<thead><tr><th>#</th><th>Camera</th><th>Vị trí</th><th>Thời gian hoạt động</th><th>Mất hình</th>
<th>Bị che / xoay / mờ</th><th>Hình ảnh cuối</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
<p class="note">Thời gian hoạt động: phần thời gian (kể từ lần ghi hình đầu tiên của camera) camera được ghi hình.
Mất hình: những khoảng không ghi hình, kèm lý do.</p>
<h2>Chi tiết từng camera</h2>
{details}</body>
</html>
"""


def _summary_row(report: HealthReport, number: int, health: CameraHealth) -> str:
    camera, uptime, last = health.camera, health.uptime_percent, health.last_picture_ms
    grade = "bad" if uptime is None or uptime < 95 else "warn" if uptime < 99.5 else "ok"
    shown = "không có dữ liệu" if uptime is None else f"{uptime:.2f} %".replace(".", ",")
    picture = "chưa có hình" if last is None else \
        f"{report.when(last)} (cách đây {duration(report.end_ms - last)})"
    return (f'<tr data-camera="{_e(camera.name)}"><td>{number}</td>'
            f"<td><strong>{_e(camera.title or camera.name)}</strong><br><small>{_e(camera.name)}</small></td>"
            f'<td>{_e(camera.location)}</td><td class="{grade}">{shown}</td>'
            f"<td>{_count(len(health.outages), health.down_ms)}</td>"
            f"<td>{_count(len(health.tampers), health.tamper_ms)}</td><td>{picture}</td></tr>\n")


def _count(times: int, ms: int) -> str:
    return f"{times} lần, {duration(ms)}" if times else "không"


def _details(report: HealthReport, health: CameraHealth) -> str:
    camera = health.camera
    outages = _periods(report, health.outages, "Lý do", reason)
    tampers = _periods(report, health.tampers, "Loại", lambda kind: TAMPER_NAMES.get(kind, kind))
    return (f"<section><h3>{_e(camera.title or camera.name)} <small>({_e(camera.name)})</small></h3>\n"
            f"<h4>Mất hình</h4>\n{outages}<h4>Bị che / xoay / mờ</h4>\n{tampers}</section>\n")


def _periods(report: HealthReport, periods: tuple[Period, ...], heading: str, describe: Callable[[str], str]) -> str:
    if not periods:
        return "<p>Không có.</p>\n"
    shown = periods[-MAX_LISTED:]
    more = f"<p>… và {len(periods) - len(shown)} lần trước đó.</p>\n" if len(shown) < len(periods) else ""
    rows = "".join(f"<tr><td>{report.when(p.start_ms)}</td><td>{report.when(p.end_ms)}</td><td>{duration(p.ms)}</td>"
                   f"<td>{_e(describe(p.what))}</td></tr>\n" for p in shown)
    return (f"{more}<table><thead><tr><th>Bắt đầu</th><th>Kết thúc</th><th>Thời lượng</th><th>{heading}</th></tr>"
            f"</thead>\n<tbody>\n{rows}</tbody></table>\n")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


STYLE = """
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; margin: 1.5cm; color: #111; font-size: 11pt; }
h1 { font-size: 18pt; margin: 0 0 .3em; }
h2 { font-size: 14pt; margin-top: 1.5em; }
h3 { font-size: 12pt; margin: 1.2em 0 .3em; page-break-after: avoid; }
h4 { font-size: 10.5pt; margin: .6em 0 .2em; }
.meta, .note { color: #444; }
table { border-collapse: collapse; width: 100%; margin: .3em 0; }
th, td { border: 1px solid #999; padding: .25em .45em; text-align: left; vertical-align: top; }
th { background: #eee; }
tr { page-break-inside: avoid; }
td.bad { color: #b00; font-weight: bold; }
td.warn { color: #a60; font-weight: bold; }
section { page-break-inside: avoid; }
@media print { body { margin: 0; } }
"""
