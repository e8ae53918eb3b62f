"""The timeline picture: bars where the windows are, and words for every bar."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from lms_bridge.domain.model import Window
from lms_bridge.web.timeline import Bar, group_windows, text_alternative, timeline_svg

LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def window(student: str, due_minutes: int, close_minutes: int | None = None) -> Window:
    due = T0 + timedelta(minutes=due_minutes)
    closes = T0 + timedelta(minutes=close_minutes or due_minutes)
    return Window("E1", student, T0, due, closes, None, ("qmu.reading",))


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)


NS = "{http://www.w3.org/2000/svg}"


def test_svg_is_well_formed_and_labelled_by_its_title_and_description() -> None:
    bars = group_windows([window("s1", 125), window("s2", 125), window("s3", 177)], (T0, T0 + timedelta(minutes=125), T0 + timedelta(minutes=125)))
    root = parse(str(timeline_svg(bars, LONDON, title="Windows of Anatomy", element_id="tl")))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "tl-title tl-desc"
    assert root.find(f"{NS}title").text == "Windows of Anatomy"
    desc = root.find(f"{NS}desc").text
    assert "Standard: 2 candidates: opens Tue 01 Dec 2026 09:30 GMT, due Tue 01 Dec 2026 11:35 GMT." in desc
    assert "1 candidate: opens Tue 01 Dec 2026 09:30 GMT, due Tue 01 Dec 2026 12:27 GMT." in desc


def test_standard_group_first_and_bars_scale_with_the_window() -> None:
    std = (T0, T0 + timedelta(minutes=60), T0 + timedelta(minutes=60))
    bars = group_windows([window("a", 120), window("b", 60), window("c", 90)], std)
    assert [b.label for b in bars] == ["Standard: 1 candidate", "1 candidate", "1 candidate"]
    assert [b.due_at for b in bars] == [T0 + timedelta(minutes=m) for m in (60, 90, 120)]
    root = parse(str(timeline_svg(bars, LONDON, title="t")))
    widths = [float(r.get("width")) for r in root.iter(f"{NS}rect") if r.get("fill") == "#1d4f91"]
    assert widths[0] < widths[1] < widths[2]
    assert abs(widths[2] / widths[0] - 2) < 0.05


def test_late_part_is_hatched_and_said_in_words() -> None:
    bars = [Bar("Standard", T0, T0 + timedelta(minutes=60), T0 + timedelta(minutes=75))]
    svg = str(timeline_svg(bars, LONDON, title="t", element_id="x"))
    assert 'fill="url(#x-late)"' in svg
    assert text_alternative(bars, LONDON) == [
        "Standard: opens Tue 01 Dec 2026 09:30 GMT, due Tue 01 Dec 2026 10:30 GMT, closes Tue 01 Dec 2026 10:45 GMT."
    ]


def test_labels_are_escaped_and_local_ticks_are_round() -> None:
    bars = [Bar("<script>x</script>", T0, T0 + timedelta(hours=3), T0 + timedelta(hours=3))]
    svg = str(timeline_svg(bars, LONDON, title="a & b"))
    assert "<script>" not in svg
    parse(svg)  # still well-formed
    ticks = re.findall(r'text-anchor="middle" fill="#1b1b1b">([^<]+)<', svg)
    assert ticks and all(re.fullmatch(r"\d\d:(00|30)", t) for t in ticks)


def test_multi_day_ticks_name_the_day_and_summer_time_is_local() -> None:
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    bars = [Bar("24h", start, start + timedelta(hours=29), start + timedelta(hours=29))]
    svg = str(timeline_svg(bars, LONDON, title="t"))
    assert "opens Mon 01 Jun 2026 09:00 BST" in svg
    ticks = re.findall(r'text-anchor="middle" fill="#1b1b1b">([^<]+)<', svg)
    assert all(re.fullmatch(r"\w{3} \d\d \w{3} \d\d:\d\d", t) for t in ticks)


def test_no_windows_says_so() -> None:
    svg = str(timeline_svg([], LONDON, title="Nothing"))
    assert "No windows to show." in svg
    parse(svg)
