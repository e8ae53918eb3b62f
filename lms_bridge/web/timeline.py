"""A timeline picture of exam windows: an SVG that a screen reader can read too.

Pure: bars in, markup out; no clock, no request. Each bar is one window (or one group of
candidates who share a window): the working part from opening to the deadline, and, when the
policy allows late submissions, a lighter part up to the hard close. The SVG carries a
<title> and a <desc> that say in words what every bar shows, and `text_alternative` returns
the same sentences for a list beside the picture; the page's table stays the full record.

    bars = group_windows(windows, standard)        # or [Bar(...), ...]
    svg = timeline_svg(bars, zone, title="Windows for E1")
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from ..domain.model import Window

# Geometry, in SVG user units; the picture scales to its container (width 100%).
WIDTH = 720
LABEL_WIDTH = 270
RIGHT_PAD = 28
TOP = 34
ROW = 30
BAR_HEIGHT = 16
MAX_TICKS = 8
_TICK_STEPS = (15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080)  # minutes

# Colours: the bar on white is 9.6:1, the late part 4.9:1, text 16:1 (WCAG AA needs 3:1 for
# graphics, 4.5:1 for text). The late part is also hatched, so colour is not the only cue.
INK = "#1b1b1b"
BAR = "#1d4f91"
LATE = "#3d6fb5"
GRID = "#767676"


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of the picture."""

    label: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    caption: str | None = None  # what the picture writes beside the bar (default: the label)


def group_windows(
    windows: Iterable[Window],
    standard: tuple[datetime, datetime, datetime] | None = None,
    zone: ZoneInfo | None = None,
) -> list[Bar]:
    """One bar per distinct window, labelled with how many candidates share it (and, given the
    zone, their local deadline); the standard window (when given, and held by anyone) first,
    the rest by deadline."""
    groups: dict[tuple[datetime, datetime, datetime], int] = {}
    for w in windows:
        key = (w.opens_at, w.due_at, w.closes_at)
        groups[key] = groups.get(key, 0) + 1
    order = sorted(groups, key=lambda k: (k != standard, k[1], k[2], k[0]))
    bars = []
    for key in order:
        n = groups[key]
        who = f"{n} candidate{'s' if n != 1 else ''}"
        label = f"Standard: {who}" if key == standard else who
        caption = None
        if zone is not None:
            multi_day = key[1].astimezone(zone).date() != key[0].astimezone(zone).date()
            caption = f"{label}, due {_local(key[1], zone, multi_day)}"
        bars.append(Bar(label, *key, caption=caption))
    return bars


def _local(instant: datetime, zone: ZoneInfo, with_day: bool) -> str:
    local = instant.astimezone(zone)
    return local.strftime("%a %d %b %H:%M" if with_day else "%H:%M")


def describe_bar(bar: Bar, zone: ZoneInfo) -> str:
    """The sentence a screen reader hears for one bar."""
    fmt = "%a %d %b %Y %H:%M %Z"
    text = (f"{bar.label}: opens {bar.opens_at.astimezone(zone).strftime(fmt)}, "
            f"due {bar.due_at.astimezone(zone).strftime(fmt)}")
    if bar.closes_at != bar.due_at:
        text += f", closes {bar.closes_at.astimezone(zone).strftime(fmt)}"
    return text + "."


def text_alternative(bars: Sequence[Bar], zone: ZoneInfo) -> list[str]:
    return [describe_bar(b, zone) for b in bars]


def _tick_step(span_minutes: float) -> int:
    for step in _TICK_STEPS:
        if span_minutes / step <= MAX_TICKS:
            return step
    return _TICK_STEPS[-1]


def _ticks(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """Instants at round local times (every `step` minutes) between start and end."""
    step = _tick_step((end - start).total_seconds() / 60)
    local = start.astimezone(zone)
    if step >= 1440:
        first = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        since = (local - midnight).total_seconds() // 60
        first = midnight + timedelta(minutes=(since // step) * step)
    ticks = []
    t = first
    while t <= end.astimezone(zone):
        if t >= local:
            ticks.append(t)
        if step >= 1440:  # whole days: the same wall-clock midnight, whatever the clock change
            t = (t + timedelta(minutes=step)).replace(tzinfo=zone)
        else:  # elapsed minutes, so a clock change neither repeats nor skips a tick
            t = (t.astimezone(ZoneInfo("UTC")) + timedelta(minutes=step)).astimezone(zone)
    return ticks


def timeline_svg(bars: Sequence[Bar], zone: ZoneInfo, *, title: str, element_id: str = "timeline") -> Markup:
    """The picture as inline SVG markup (safe to put in a template as it is).

    `role="img"` with `aria-labelledby` pointing at its own <title> and <desc>: assistive
    technology reads the title and every bar's sentence instead of the shapes."""
    eid = escape(element_id)
    title_id, desc_id = f"{eid}-title", f"{eid}-desc"
    desc = " ".join(text_alternative(bars, zone)) or "No windows to show."
    height = TOP + ROW * max(len(bars), 1) + 10
    parts = [
        f'<svg id="{eid}" class="timeline" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
        '<defs><pattern id="{0}-late" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="{1}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2"/></pattern></defs>'.format(eid, LATE),
    ]
    if not bars:
        parts.append(f'<text x="10" y="{TOP}" fill="{INK}">No windows to show.</text></svg>')
        return Markup("".join(parts))

    start = min(b.opens_at for b in bars)
    end = max(b.closes_at for b in bars)
    if end <= start:
        end = start + timedelta(minutes=1)
    span = (end - start).total_seconds()
    plot = WIDTH - LABEL_WIDTH - RIGHT_PAD

    def x(instant: datetime) -> float:
        return round(LABEL_WIDTH + plot * (instant - start).total_seconds() / span, 1)

    multi_day = start.astimezone(zone).date() != end.astimezone(zone).date()
    bottom = TOP + ROW * len(bars)
    parts.append('<g aria-hidden="true">')
    for tick in _ticks(start, end, zone):
        tx = x(tick)
        parts.append(f'<line x1="{tx}" y1="{TOP - 6}" x2="{tx}" y2="{bottom}" stroke="{GRID}" '
                     f'stroke-width="1" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{tx}" y="{TOP - 10}" text-anchor="middle" fill="{INK}">'
                     f'{escape(_local(tick, zone, multi_day))}</text>')
    for i, bar in enumerate(bars):
        y = TOP + ROW * i + (ROW - BAR_HEIGHT) / 2
        parts.append(f'<text x="0" y="{y + BAR_HEIGHT - 3}" fill="{INK}">{escape(_clip(bar.caption or bar.label))}</text>')
        x0, x1, x2 = x(bar.opens_at), x(bar.due_at), x(bar.closes_at)
        parts.append(f'<rect x="{x0}" y="{y}" width="{max(x1 - x0, 1)}" height="{BAR_HEIGHT}" fill="{BAR}"/>')
        if x2 > x1:
            parts.append(f'<rect x="{x1}" y="{y}" width="{x2 - x1}" height="{BAR_HEIGHT}" fill="url(#{eid}-late)"/>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _clip(label: str, limit: int = 36) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
