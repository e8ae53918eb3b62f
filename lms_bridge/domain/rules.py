"""Every rule a window can cite, by key. A rule id is `<policy name>.<key>`.

The keys below are what `Window.rules` and `LintWarning.rule` carry; the text says in
plain words what the rule did, for exams officers and for students' pages.
"""

from __future__ import annotations

from typing import Final

# key -> (what it does, where POLICY.md states it)
RULES: Final[dict[str, tuple[str, str]]] = {
    "upload": ("upload allowance added to the window", "POLICY.md short exams; seed 001 3.5"),
    "reading": ("reading time added to the working time", "POLICY.md short exams; seed 002 10.2.6"),
    "extra_time": ("support-plan extra time on the working time", "POLICY.md short exams"),
    "rest_breaks": ("rest-break time added on top of extra time", "POLICY.md qmu; seed 002 9.2.2"),
    "late": ("late-submission allowance before the hard close", "POLICY.md outputs"),
    "due_24h": ("standard 24-hour deadline", "POLICY.md 24-hour exams; seed 001 4.5"),
    "24h_plan": ("support-plan working hours added to a 24-hour deadline", "POLICY.md; seed 001 3.6"),
    "no_ilp_24h": ("no support-plan time on 24-hour exams", "POLICY.md qmu; seed 002 9.2.4"),
    "clash": ("24-hour deadline moved one exam day for a same-day clash", "POLICY.md; seed 001 4.7"),
    "incident": ("adjusted for an incident during the exam", "POLICY.md incidents"),
    "release_slot": ("release outside the policy's release slots", "POLICY.md nottingham lint"),
    "max_short_per_day": ("more short exams in one day than the policy aims for", "POLICY.md lint"),
    "stagger": ("release moved later to protect the LMS", "POLICY.md release staggering"),
}

# Time semantics rule 3 belongs to every policy, so its id carries no policy name.
CLOCK_CHANGE: Final = "time.clock_change"
CLOCK_CHANGE_TEXT: Final = "deadline moved later so no time is lost across a clock change"


def describe(rule_id: str) -> str:
    """Plain words for a rule id, for pages and tables."""
    if rule_id == CLOCK_CHANGE:
        return CLOCK_CHANGE_TEXT
    key = rule_id.split(".", 1)[-1]
    return RULES.get(key, ("", ""))[0] or rule_id
