"""The companion Moodle plugin local_lmsbridge (adapters/moodle/plugin/local_lmsbridge).

No Moodle can run here (moodle-ws.md §5), so the plugin is checked in three ways:
- `php -l` on every PHP file (what CI promises: it installs php-cli from Debian);
- structure: the plugin declares exactly the functions of CONTRACT.md, each backed by a class
  with execute_parameters/execute/execute_returns whose parameter and return names are those
  of the contract; the pre-built service; the lang strings; GPL headers; version.php;
- behaviour of the plugin's pure logic (settings rules, quiz review options, override rules,
  availability JSON), run under php-cli with a tiny harness of stand-ins in tests/moodle_plugin/php.

Without php the PHP-running tests skip with a reason; CI (LMS_BRIDGE_REQUIRE_SERVICES=1) turns
those skips into failures.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_ROOT = ROOT / "adapters" / "moodle" / "plugin"
PLUGIN = PLUGIN_ROOT / "local_lmsbridge"
CONTRACT = PLUGIN_ROOT / "CONTRACT.md"
README = PLUGIN_ROOT / "README.md"
HARNESS = Path(__file__).resolve().parent / "php"

PHP = shutil.which("php")
needs_php = pytest.mark.skipif(PHP is None, reason="php-cli is not installed (CI installs Debian's php-cli)")

PHP_FILES = sorted(PLUGIN.rglob("*.php"))
HARNESS_FILES = sorted(HARNESS.glob("*.php"))

GPL_LINES = [
    "// This file is part of Moodle - https://moodle.org/",
    "//",
    "// Moodle is free software: you can redistribute it and/or modify",
    "// it under the terms of the GNU General Public License as published by",
    "// the Free Software Foundation, either version 3 of the License, or",
    "// (at your option) any later version.",
    "//",
    "// Moodle is distributed in the hope that it will be useful,",
    "// but WITHOUT ANY WARRANTY; without even the implied warranty of",
    "// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the",
    "// GNU General Public License for more details.",
    "//",
    "// You should have received a copy of the GNU General Public License",
    "// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.",
]

# The core functions the adapter calls; the pre-built service must list them (issue 5).
CORE_FUNCTIONS = [
    "core_webservice_get_site_info",
    "core_course_get_contents",
    "core_enrol_get_enrolled_users",
    "mod_assign_get_assignments",
    "mod_assign_save_user_extensions",
    "mod_assign_get_user_flags",
    "mod_quiz_get_quizzes_by_courses",
    "mod_quiz_save_overrides",
    "mod_quiz_get_overrides",
    "mod_quiz_delete_overrides",
    "core_courseformat_update_course",
    "core_update_inplace_editable",
    "core_course_get_course_module",
    # clarifications: discussions in each course's Announcements forum
    "mod_forum_get_forums_by_courses",
    "mod_forum_get_forum_discussions",
    "mod_forum_add_discussion",
]


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --------------------------------------------------------------------------------------------
# Reading CONTRACT.md
# --------------------------------------------------------------------------------------------


def _strip_parens(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r"\([^()]*\)", "", text)
    return text


def _braced_keys(text: str) -> list[str]:
    """Top-level names in a `{a, b[]: {...}, c (bool)}` description."""
    text = _strip_parens(text.strip())
    assert text.startswith("{"), text
    keys: list[str] = []
    depth = 0
    for match in re.finditer(r"[{}]|[A-Za-z_][A-Za-z0-9_]*", text):
        token = match.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 1 and token not in {"true", "false", "null"}:
            keys.append(token)
    return keys


def contract_functions() -> dict[str, dict]:
    """Function name -> {type, caps, params {name: (type, required, default)}, settings, returns}."""
    text = CONTRACT.read_text()
    functions: dict[str, dict] = {}
    sections = re.split(r"^## ", text, flags=re.M)
    for section in sections:
        head = re.match(r"(local_lmsbridge_\w+)\s+\((read|write);\s*caps?\s+([^)]*)\)", section)
        if not head:
            continue
        name, kind, caps = head.groups()
        params: dict[str, tuple[str, bool, str | None]] = {}
        settings: list[str] = []
        lines = section.splitlines()
        for index, line in enumerate(lines):
            m = re.match(r"^    (\w+)\s+(int|text|raw|object)\s+"
                         r"(required|default\s+(\"[^\"]*\"|\S+)|all optional)", line)
            if not m:
                continue
            pname, ptype, rule = m.group(1), m.group(2), m.group(3)
            default = m.group(4).strip('"') if m.group(4) is not None else None
            params[pname] = (ptype, rule == "required", default)
            if ptype == "object":
                block = []
                for follow in lines[index + 1:]:
                    if not follow.strip():
                        break
                    block.append(follow.strip())
                joined = _strip_parens(" ".join(block))
                for part in re.split(r"\b(?:assign|quiz):", joined)[1:]:
                    settings += [item.strip().split()[0] for item in part.split(",") if item.strip()]
        returns = re.search(r"Returns `(\{.*?\})`", section, flags=re.S)
        functions[name] = {
            "type": kind,
            "caps": re.findall(r"[a-z]+/[a-z]+:[a-z]+", caps),
            "params": params,
            "settings": settings,
            "returns": _braced_keys(returns.group(1)) if returns else [],
        }

    # The three override functions are given as signatures under one heading.
    overrides = text.split("## Assignment overrides before Moodle 5.3", 1)[1]
    caps = re.findall(r"cap\s+([a-z]+/[a-z]+:[a-z]+)", overrides)
    signatures = re.findall(r"(local_lmsbridge_\w+)\((.*?)\)\s*->\s*(\{.*?\})\s*$", overrides, flags=re.S | re.M)
    for name, args, result in signatures:
        names = re.findall(r"[A-Za-z_]\w*", args)
        functions[name] = {
            "type": "read" if "_get_" in name else "write",
            "caps": caps,
            "params": {n: ("?", True, None) for n in names},
            "settings": [],
            "returns": _braced_keys(result),
            "signature": True,
        }
    return functions


CONTRACT_FUNCTIONS = contract_functions()


def test_contract_parsed() -> None:
    assert set(CONTRACT_FUNCTIONS) == {
        "local_lmsbridge_upsert_activity",
        "local_lmsbridge_get_activities",
        "local_lmsbridge_update_section",
        "local_lmsbridge_set_availability",
        "local_lmsbridge_attach_paper",
        "local_lmsbridge_save_assign_overrides",
        "local_lmsbridge_get_assign_overrides",
        "local_lmsbridge_delete_assign_overrides",
    }
    upsert = CONTRACT_FUNCTIONS["local_lmsbridge_upsert_activity"]
    assert "quizpassword" in upsert["settings"] and "cutoffdate" in upsert["settings"]
    assert upsert["returns"] == ["cmid", "instance", "created", "warnings"]


# --------------------------------------------------------------------------------------------
# Reading the plugin's PHP (text, not a PHP parser: enough for Moodle's declarative files)
# --------------------------------------------------------------------------------------------


def strip_php_comments(source: str) -> str:
    """Removes // and /* */ comments, keeping string literals intact."""
    out = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch in "'\"":
            j = i + 1
            while j < len(source) and source[j] != ch:
                j += 2 if source[j] == "\\" else 1
            out.append(source[i:j + 1])
            i = j + 1
        elif source.startswith("//", i) or ch == "#":
            j = source.find("\n", i)
            i = len(source) if j < 0 else j
        elif source.startswith("/*", i):
            j = source.find("*/", i + 2)
            i = len(source) if j < 0 else j + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def method_body(source: str, method: str) -> str:
    m = re.search(r"function\s+" + method + r"\s*\(", source)
    assert m, f"no method {method}"
    start = source.index("{", m.end())
    depth = 0
    for i in range(start, len(source)):
        if source[i] == "{":
            depth += 1
        elif source[i] == "}":
            depth -= 1
            if depth == 0:
                return source[start:i + 1]
    raise AssertionError("unbalanced braces")


def structure_keys(body: str, opener: str) -> list[str]:
    """Keys at the first level of `new <opener>([ ... ])` in a method body."""
    m = re.search(r"new\s+" + opener + r"\s*\(\s*\[", body)
    assert m, f"no {opener}"
    keys: list[str] = []
    depth = 1
    i = m.end()
    while i < len(body) and depth:
        ch = body[i]
        if ch in "'\"":
            j = i + 1
            while body[j] != ch:
                j += 2 if body[j] == "\\" else 1
            literal = body[i + 1:j]
            after = body[j + 1:j + 8]
            if depth == 1 and re.match(r"\s*=>", after):
                keys.append(literal)
            i = j + 1
            continue
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        i += 1
    return keys


def all_structure_keys(body: str) -> set[str]:
    return set(re.findall(r"'(\w+)'\s*=>\s*new\s+external_", body))


def php_array_entries(source: str, variable: str) -> dict[str, str]:
    """`$functions = [ 'name' => [ ... ], ... ];` -> name -> entry text."""
    m = re.search(re.escape(variable) + r"\s*=\s*\[", source)
    assert m, variable
    entries: dict[str, str] = {}
    for em in re.finditer(r"'(\w+)'\s*=>\s*\[", source[m.end():]):
        start = m.end() + em.end()
        depth = 1
        i = start
        while depth:
            if source[i] == "[":
                depth += 1
            elif source[i] == "]":
                depth -= 1
            i += 1
        entries.setdefault(em.group(1), source[start:i - 1])
    return entries


def entry_value(entry: str, key: str) -> str | None:
    m = re.search(r"'" + key + r"'\s*=>\s*((?:'(?:[^'\\]|\\.)*'\s*(?:\.\s*)?)+|\d+|\w+)", entry)
    if not m:
        return None
    value = m.group(1)
    if value.startswith("'"):
        return "".join(re.findall(r"'((?:[^'\\]|\\.)*)'", value))
    return value


SERVICES = strip_php_comments((PLUGIN / "db" / "services.php").read_text())
FUNCTIONS = {
    name: entry
    for name, entry in php_array_entries(SERVICES.split("$services", 1)[0], "$functions").items()
    if name.startswith("local_lmsbridge_")
}


def class_file(classname: str) -> Path:
    parts = classname.strip("\\").split("\\")
    assert parts[0] == "local_lmsbridge", classname
    return PLUGIN.joinpath("classes", *parts[1:-1], parts[-1] + ".php")


# --------------------------------------------------------------------------------------------
# php -l
# --------------------------------------------------------------------------------------------


@needs_php
@pytest.mark.parametrize("path", PHP_FILES + HARNESS_FILES, ids=rel)
def test_php_lint(path: Path) -> None:
    result = subprocess.run([PHP, "-l", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------------------------
# Files and conventions
# --------------------------------------------------------------------------------------------


def test_plugin_layout() -> None:
    for name in [
        "version.php",
        "db/services.php",
        "db/access.php",
        "lang/en/local_lmsbridge.php",
        "classes/privacy/provider.php",
    ]:
        assert (PLUGIN / name).is_file(), name
    assert README.is_file()


@pytest.mark.parametrize("path", PHP_FILES, ids=rel)
def test_gpl_header(path: Path) -> None:
    lines = path.read_text().splitlines()
    assert lines[0] == "<?php"
    assert lines[1:1 + len(GPL_LINES)] == GPL_LINES
    assert "@license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later" in path.read_text()
    assert "@package    local_lmsbridge" in path.read_text()


@pytest.mark.parametrize("path", PHP_FILES, ids=rel)
def test_moodle_internal_where_conventions_want_it(path: Path) -> None:
    """Side-effect files guard with MOODLE_INTERNAL; class files and lang strings do not (moodle-cs)."""
    source = path.read_text()
    guarded = "defined('MOODLE_INTERNAL') || die();" in source
    relative = path.relative_to(PLUGIN).as_posix()
    if relative.startswith("classes/"):
        assert not guarded
        assert re.search(r"^namespace local_lmsbridge\\", source, flags=re.M)
        assert "@copyright" in source
    elif relative.startswith("lang/"):
        assert not guarded
    else:
        assert guarded, relative


@pytest.mark.parametrize("path", [p for p in PHP_FILES if "/lang/" not in p.as_posix()], ids=rel)
def test_line_length(path: Path) -> None:
    long = [n for n, line in enumerate(path.read_text().splitlines(), 1) if len(line) > 132]
    assert not long, f"lines over 132 characters: {long}"


def test_version_php() -> None:
    source = (PLUGIN / "version.php").read_text()
    assert re.search(r"\$plugin->component\s*=\s*'local_lmsbridge';", source)
    assert re.search(r"\$plugin->version\s*=\s*2026112200;", source)
    assert re.search(r"\$plugin->requires\s*=\s*2024100700;", source)
    assert re.search(r"\$plugin->maturity\s*=\s*MATURITY_(ALPHA|BETA|RC|STABLE);", source)
    assert re.search(r"\$plugin->release\s*=\s*'[^']+';", source)
    contract = CONTRACT.read_text()
    assert "`2026112200`" in contract and "`2024100700`" in contract


def test_privacy_provider_is_null_provider() -> None:
    source = (PLUGIN / "classes" / "privacy" / "provider.php").read_text()
    assert "implements \\core_privacy\\local\\metadata\\null_provider" in source
    assert "return 'privacy:metadata';" in source


def test_no_capabilities_of_its_own() -> None:
    source = strip_php_comments((PLUGIN / "db" / "access.php").read_text())
    assert re.search(r"\$capabilities\s*=\s*\[\s*\];", source)


# --------------------------------------------------------------------------------------------
# db/services.php against CONTRACT.md
# --------------------------------------------------------------------------------------------


def test_services_declares_exactly_the_contract_functions() -> None:
    assert set(FUNCTIONS) == set(CONTRACT_FUNCTIONS)


@pytest.mark.parametrize("name", sorted(CONTRACT_FUNCTIONS))
def test_function_declaration(name: str) -> None:
    entry = FUNCTIONS[name]
    contract = CONTRACT_FUNCTIONS[name]
    classname = entry_value(entry, "classname").replace("\\\\", "\\")
    assert classname == "local_lmsbridge\\external\\" + name.removeprefix("local_lmsbridge_")
    assert entry_value(entry, "methodname") == "execute"
    assert entry_value(entry, "type") == contract["type"]
    assert (entry_value(entry, "description") or "").strip()
    declared = {c.strip() for c in (entry_value(entry, "capabilities") or "").split(",")}
    assert set(contract["caps"]) <= declared, (contract["caps"], declared)


@pytest.mark.parametrize("name", sorted(CONTRACT_FUNCTIONS))
def test_function_class(name: str) -> None:
    classname = entry_value(FUNCTIONS[name], "classname").replace("\\\\", "\\")
    path = class_file(classname)
    assert path.is_file(), path
    source = path.read_text()
    short = classname.split("\\")[-1]
    assert "namespace local_lmsbridge\\external;" in source
    assert re.search(r"^class " + short + r" extends external_api \{", source, flags=re.M)
    assert "use core_external\\external_api;" in source
    for method in ("execute_parameters", "execute", "execute_returns"):
        assert re.search(r"public static function " + method + r"\(", source), method
    assert "self::validate_parameters(self::execute_parameters()" in source


def _function_source(name: str) -> str:
    classname = entry_value(FUNCTIONS[name], "classname").replace("\\\\", "\\")
    return strip_php_comments(class_file(classname).read_text())


@pytest.mark.parametrize("name", sorted(CONTRACT_FUNCTIONS))
def test_parameters_match_contract(name: str) -> None:
    contract = CONTRACT_FUNCTIONS[name]
    source = _function_source(name)
    body = method_body(source, "execute_parameters")
    top = structure_keys(body, "external_function_parameters")
    if contract.get("signature"):
        assert set(top) | (all_structure_keys(body) - set(top)) == set(contract["params"])
        assert all_structure_keys(body) == set(contract["params"])
        return
    assert top == list(contract["params"]), "names or order differ from CONTRACT.md"
    nested = all_structure_keys(body) - set(top)
    assert nested == set(contract["settings"])
    for pname, (ptype, required, default) in contract["params"].items():
        kind, args = declaration(body, pname)
        if ptype == "object":
            assert kind == "external_single_structure", pname
            assert args.rstrip().endswith("VALUE_DEFAULT, []"), (pname, args[-40:])
            continue
        assert kind == "external_value", pname
        expected = {"int": "PARAM_INT", "text": "PARAM_TEXT", "raw": "PARAM_RAW"}[ptype]
        assert args.lstrip().startswith(expected), (pname, args)
        if required:
            assert "VALUE_DEFAULT" not in args and "VALUE_OPTIONAL" not in args, pname
        else:
            assert "VALUE_DEFAULT" in args, pname
            if default is not None:
                literal = default if ptype == "int" else f"'{default}'"
                assert args.rstrip().endswith(literal), (pname, args, literal)


def declaration(body: str, key: str) -> tuple[str, str]:
    """`'key' => new external_x(ARGS)` -> (external_x, ARGS), with ARGS balanced."""
    m = re.search(r"'" + key + r"'\s*=>\s*new\s+(external_\w+)\(", body)
    assert m, key
    depth = 1
    i = m.end()
    while depth:
        ch = body[i]
        if ch in "'\"":
            j = i + 1
            while body[j] != ch:
                j += 2 if body[j] == "\\" else 1
            i = j + 1
            continue
        depth += ch in "(["
        depth -= ch in ")]"
        i += 1
    return m.group(1), body[m.end():i - 1]


@pytest.mark.parametrize("name", sorted(CONTRACT_FUNCTIONS))
def test_execute_signature_follows_parameter_order(name: str) -> None:
    """Moodle calls execute() with the validated parameters positionally, in declaration order."""
    source = _function_source(name)
    top = structure_keys(method_body(source, "execute_parameters"), "external_function_parameters")
    signature = re.search(r"public static function execute\((.*?)\)\s*:", source, flags=re.S).group(1)
    assert re.findall(r"\$(\w+)", signature) == top


@pytest.mark.parametrize("name", sorted(CONTRACT_FUNCTIONS))
def test_returns_match_contract(name: str) -> None:
    contract = CONTRACT_FUNCTIONS[name]
    body = method_body(_function_source(name), "execute_returns")
    top = structure_keys(body, "external_single_structure")
    assert top == contract["returns"]
    if "warnings" in top:
        assert "'warnings' => new external_warnings()" in body


def test_get_activities_returns_the_contract_shape() -> None:
    body = method_body(_function_source("local_lmsbridge_get_activities"), "execute_returns")
    keys = all_structure_keys(body)
    contract = CONTRACT.read_text()
    activity = re.search(r"activities\[\]: \{(.*?)\},\s*sections", contract, flags=re.S).group(1)
    section = re.search(r"sections\[\]: \{(.*?)\}", contract, flags=re.S).group(1)
    for listed in (activity, section):
        for field in re.findall(r"[a-z]+", _strip_parens(re.sub(r"\{.*?\}", "", listed))):
            assert field in keys, field
    upsert = CONTRACT_FUNCTIONS["local_lmsbridge_upsert_activity"]["settings"]
    assert set(upsert) <= keys


def test_pre_built_service() -> None:
    services = php_array_entries(SERVICES.split("$services", 1)[1], "")
    assert "lms_bridge" in services
    service = services["lms_bridge"]
    assert entry_value(service, "shortname") == "lms_bridge"
    assert entry_value(service, "restrictedusers") == "1"
    assert entry_value(service, "uploadfiles") == "1"
    assert entry_value(service, "enabled") in {"0", "1"}
    listed = re.findall(r"'(\w+)'", service.split("'functions'", 1)[1].split("]", 1)[0])
    assert set(listed) == set(CONTRACT_FUNCTIONS) | set(CORE_FUNCTIONS)
    assert len(listed) == len(set(listed))


# --------------------------------------------------------------------------------------------
# Lang strings
# --------------------------------------------------------------------------------------------


def lang_strings() -> dict[str, str]:
    source = (PLUGIN / "lang" / "en" / "local_lmsbridge.php").read_text()
    keys = re.findall(r"^\$string\['([^']+)'\]\s*=", source, flags=re.M)
    assert len(keys) == len(set(keys)), "duplicate lang string"
    assert keys == sorted(keys), "lang strings should be in alphabetical order"
    return dict(re.findall(r"^\$string\['([^']+)'\]\s*=\s*'((?:[^'\\]|\\.)*)';", source, flags=re.M))


def used_string_ids() -> set[str]:
    used: set[str] = set()
    for path in PLUGIN.joinpath("classes").rglob("*.php"):
        source = strip_php_comments(path.read_text())
        used |= set(re.findall(r"get_string\('([^']+)',\s*'local_lmsbridge'", source))
        used |= set(re.findall(r"(?:util|self)::invalid\('([^']+)'", source))
        used |= set(re.findall(r"(?:util|self)::warning\('\w+',\s*'([^']+)'", source))
        used |= set(re.findall(r"moodle_exception\('([^']+)',\s*'local_lmsbridge'", source))
        # Pure rule classes return identifiers that the callers pass to util::invalid().
        used |= set(re.findall(r"return \['([a-z_]+)',\s*(?:null|\$\w+)\];", source))
        used |= set(re.findall(r"return '(err_[a-z_]+)'", source))
        used |= set(re.findall(r"return '([a-z:_]+)';", source)) & {"privacy:metadata"}
    return used


def test_every_used_string_exists() -> None:
    strings = lang_strings()
    missing = used_string_ids() - set(strings)
    assert not missing, missing
    assert {"pluginname", "privacy:metadata"} <= set(strings)


def test_every_string_is_used() -> None:
    unused = set(lang_strings()) - used_string_ids() - {"pluginname"}
    assert not unused, unused


def test_contract_error_texts() -> None:
    strings = lang_strings()
    assert strings["err_idnumbertaken"] == "idnumber {$a->idnumber} belongs to a {$a->modname}"
    assert strings["err_closebeforeopen"] == "timeclose before timeopen"
    assert strings["err_draftempty"] == "draft area {$a} is empty"


# --------------------------------------------------------------------------------------------
# What the plugin writes: built on core, no support-plan data
# --------------------------------------------------------------------------------------------


def test_built_on_core_module_api() -> None:
    writer = (PLUGIN / "classes" / "local" / "activity_writer.php").read_text()
    paper = (PLUGIN / "classes" / "local" / "paper_writer.php").read_text()
    for source in (writer, paper):
        assert "create_module($data)" in source
        assert "update_moduleinfo($cm, $data, $course)" in source
        assert "prepare_new_moduleinfo_data(" in source
        assert "get_moduleinfo_data($cm, $course)" in source
    # Only the override functions write a table directly, and only assign_overrides.
    for path in PLUGIN.joinpath("classes").rglob("*.php"):
        source = strip_php_comments(path.read_text())
        for table in re.findall(r"\$DB->(?:insert_record|update_record|delete_records\w*|set_field)\('(\w+)'", source):
            assert table in {"assign_overrides", "course_modules"}, (path.name, table)


def test_no_support_plan_fields_are_written() -> None:
    """lms_bridge never puts support-plan data into Moodle text; the plugin offers no field for it."""
    for path in PHP_FILES:
        source = strip_php_comments(path.read_text()).lower()
        assert "'reason'" not in source, path.name
        assert "supportplan" not in source and "support_plan" not in source, path.name


# --------------------------------------------------------------------------------------------
# Pure logic under php-cli
# --------------------------------------------------------------------------------------------


def obj(**fields):
    return {"__object__": fields}


def php_call(call: str, *args):
    result = subprocess.run(
        [PHP, str(HARNESS / "call.php")],
        input=json.dumps({"call": call, "args": list(args)}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not result.stderr, result.stderr
    return json.loads(result.stdout)


ALL = 0x10000 | 0x01000 | 0x00100 | 0x00010
DURING, IMMEDIATELY, OPEN, CLOSED = 0x10000, 0x01000, 0x00100, 0x00010
REVIEW_FIELDS = ["attempt", "correctness", "maxmarks", "marks", "specificfeedback", "generalfeedback",
                 "rightanswer", "overallfeedback"]


@needs_php
@pytest.mark.parametrize(
    ("modname", "effective", "error"),
    [
        ("quiz", {"timeopen": 100, "timeclose": 50}, "err_closebeforeopen"),
        ("quiz", {"timeopen": 100, "timeclose": 100}, None),
        ("quiz", {"timeopen": 100, "timeclose": 0}, None),
        ("quiz", {"timeopen": 0, "timeclose": 50}, None),
        ("assign", {"allowsubmissionsfromdate": 100, "duedate": 50}, "err_duebeforeopen"),
        ("assign", {"duedate": 100, "cutoffdate": 50}, "err_cutoffbeforedue"),
        ("assign", {"allowsubmissionsfromdate": 100, "cutoffdate": 50}, "err_cutoffbeforeopen"),
        ("assign", {"allowsubmissionsfromdate": 100, "duedate": 200, "cutoffdate": 300}, None),
        ("assign", {"allowsubmissionsfromdate": 0, "duedate": 200, "cutoffdate": 0}, None),
    ],
)
def test_date_order(modname: str, effective: dict, error: str | None) -> None:
    assert php_call("activity_settings::date_error", modname, effective) == {"result": error}


@needs_php
def test_settings_split_and_values() -> None:
    out = php_call("activity_settings::split", "assign", {"duedate": 5, "timeopen": 7, "timelimit": 60})
    assert out["result"] == [{"duedate": 5, "timelimit": 60}, ["timeopen"]]
    assert php_call("activity_settings::value_error", {"timelimit": -1})["result"] == ["err_negative", "timelimit"]
    assert php_call("activity_settings::value_error", {"shuffleanswers": 2})["result"] == \
        ["err_notboolean", "shuffleanswers"]
    assert php_call("activity_settings::value_error", {"attempts": 0, "hideresultsuntilclose": 1})["result"] is None


@needs_php
def test_review_options_round_trip() -> None:
    bits = {field: (ALL if field != "overallfeedback" else ALL & ~DURING) for field in REVIEW_FIELDS}
    fields = php_call("activity_settings::review_form_fields", bits)["result"]
    assert fields["attemptduring"] == 1 and fields["overallfeedbackclosed"] == 1
    assert "overallfeedbackduring" not in fields
    assert len(fields) == 8 * 4 - 1
    assert php_call("activity_settings::results_hidden_until_close", bits)["result"] is False


@needs_php
def test_hide_results_until_close() -> None:
    defaults = {field: ALL for field in REVIEW_FIELDS}
    shown = {field: ALL for field in REVIEW_FIELDS}
    hidden = php_call("activity_settings::apply_hide_results", shown, True, defaults)["result"]
    assert hidden["attempt"] == DURING | CLOSED  # the attempt itself during the attempt is forced by core
    assert all(hidden[field] == CLOSED for field in REVIEW_FIELDS if field != "attempt")
    # Only the "after the quiz is closed" column, switched on even where it was off.
    nothing = {field: (DURING if field == "attempt" else 0) for field in REVIEW_FIELDS}
    assert php_call("activity_settings::apply_hide_results", nothing, True, defaults)["result"] == hidden
    assert php_call("activity_settings::results_hidden_until_close", hidden)["result"] is True
    # Read back as the get_activities setting.
    quiz = obj(timeopen=1, timeclose=2, timelimit=3, attempts=1, password="pw", shuffleanswers=0,
               **{"review" + field: value for field, value in hidden.items()})
    settings = php_call("activity_settings::read", "quiz", quiz)["result"]
    assert settings == {"timeopen": 1, "timeclose": 2, "timelimit": 3, "attempts": 1, "quizpassword": "pw",
                        "shuffleanswers": 0, "hideresultsuntilclose": 1}
    # Turning it off restores the site's defaults for the times before the close.
    restored = php_call("activity_settings::apply_hide_results", hidden, False, defaults)["result"]
    assert restored == shown
    # Turning it off when the site defaults hide results too still shows the attempt.
    closedonly = {field: CLOSED for field in REVIEW_FIELDS}
    opened = php_call("activity_settings::apply_hide_results", hidden, False, closedonly)["result"]
    assert php_call("activity_settings::results_hidden_until_close", opened)["result"] is False
    # Off on a quiz that already shows results changes nothing.
    assert php_call("activity_settings::apply_hide_results", shown, False, closedonly)["result"] == shown


@needs_php
def test_new_quiz_has_its_not_null_columns() -> None:
    """quiz.preferredbehaviour, password (via quizpassword), subnet and browsersecurity have no DB default."""
    defaults = php_call("activity_settings::quiz_defaults", obj())["result"]
    for key in ("preferredbehaviour", "quizpassword", "subnet", "browsersecurity", "grade", "sumgrades",
                "overduehandling", "navmethod"):
        assert key in defaults, key
    assert defaults["browsersecurity"] == "-"
    site = php_call("activity_settings::quiz_defaults", obj(preferredbehaviour="immediatefeedback", maximumgrade="20"))
    assert site["result"]["preferredbehaviour"] == "immediatefeedback"
    assert site["result"]["grade"] == 20


@needs_php
def test_new_assignment_reads_site_defaults_but_not_dates() -> None:
    defaults = php_call("activity_settings::assign_defaults",
                        obj(submissiondrafts="1", duedate="604800", maxattempts="-1"))["result"]
    assert defaults["submissiondrafts"] == 1
    assert defaults["maxattempts"] == -1
    assert defaults["duedate"] == 0 and defaults["cutoffdate"] == 0
    for key in ("requiresubmissionstatement", "sendnotifications", "sendlatenotifications", "teamsubmission",
                "requireallteammemberssubmit", "blindmarking", "markingworkflow", "markingallocation",
                "markinganonymous", "gradingduedate"):
        assert key in defaults, key


ASSIGN = obj(id=7, allowsubmissionsfromdate=1000, duedate=2000, cutoffdate=3000, timelimit=0)


@needs_php
def test_override_normalise_clears_values_equal_to_the_assignment() -> None:
    out = php_call("assign_override_rules::normalise",
                   {"userid": 5, "duedate": 2000, "cutoffdate": 3600, "timelimit": 0}, ASSIGN)["result"]
    assert out == {"id": None, "userid": 5, "groupid": None, "allowsubmissionsfromdate": None, "duedate": None,
                   "cutoffdate": 3600, "timelimit": None}


@needs_php
@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"duedate": 2500}, "overridemustsetuserorgroup"),
        ({"userid": 5, "groupid": 1, "duedate": 2500}, "overridecannotsetbothgroupanduser"),
        ({"userid": 5, "duedate": 2000, "cutoffdate": 3000}, "nooverridedata"),
        ({"userid": 5}, "nooverridedata"),
        ({"userid": 5, "timelimit": -60}, "overrideinvalidtimelimit"),
        ({"userid": 5, "duedate": 3500}, "overridecutoffbeforedue"),  # past the assignment's own cut-off
        ({"userid": 5, "duedate": 3500, "cutoffdate": 3400}, "overridecutoffbeforedue"),
        ({"userid": 5, "allowsubmissionsfromdate": 2500}, "overrideduebeforeopen"),
        ({"userid": 5, "allowsubmissionsfromdate": 2000}, "overrideduebeforeopen"),  # due must be after the start
        ({"userid": 5, "allowsubmissionsfromdate": 3500, "duedate": 4000}, "overridecutoffbeforedue"),
        ({"userid": 5, "duedate": 3500, "cutoffdate": 4000}, None),
        ({"groupid": 3, "timelimit": 5400}, None),
    ],
)
def test_override_rules(override: dict, error: str | None) -> None:
    normalised = php_call("assign_override_rules::normalise", override, ASSIGN)["result"]
    result = php_call("assign_override_rules::check", normalised, ASSIGN)["result"]
    assert (result[0] if result else None) == error


@needs_php
def test_override_record_has_only_override_columns() -> None:
    normalised = php_call("assign_override_rules::normalise", {"userid": 5, "duedate": 2500}, ASSIGN)["result"]
    record = php_call("assign_override_rules::record", normalised, 7)["result"]
    assert record == {"assignid": 7, "userid": 5, "groupid": None, "allowsubmissionsfromdate": None,
                      "duedate": 2500, "cutoffdate": None, "timelimit": None}


@needs_php
def test_paper_release_restriction_is_the_contract_json() -> None:
    assert php_call("availability::release_at", 1767258000)["result"] == \
        '{"op":"&","c":[{"type":"date","d":">=","t":1767258000}],"showc":[true]}'
    assert php_call("availability::release_at", 0)["result"] is None


@needs_php
@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("", None),
        ("  ", None),
        ('{"op":"&","c":[],"showc":[]}', None),
        ('{"op":"&","c":[{"type":"date","d":">=","t":5}],"showc":[true]}',
         '{"op":"&","c":[{"type":"date","d":">=","t":5}],"showc":[true]}'),
        ("not json", "availability is not valid JSON (a JSON object is expected)"),
        ("[1, 2]", "availability is not valid JSON (a JSON object is expected)"),
        ('{"op":"&","c":[{"type":"nosuch"}],"showc":[true]}',
         "availability is not a valid restriction: Unknown condition type: nosuch"),
        ('{"op":"&","c":[{"type":"date","d":">=","t":5}]}',
         "availability is not a valid restriction: Invalid availability structure (->c, ->showc mismatch)"),
    ],
)
def test_availability_validation(text: str, outcome: str | None) -> None:
    out = php_call("availability::normalise", text)
    if outcome is None or outcome.startswith("{"):
        assert out == {"result": outcome}
    else:
        assert out["exception"] == {"class": "invalid_parameter_exception", "errorcode": "invalidparameter",
                                    "debuginfo": outcome}


@needs_php
def test_validation_errors_are_invalidparameter_with_the_reason() -> None:
    too_long = php_call("util::clean_idnumber", "x" * 101)
    assert too_long["exception"]["errorcode"] == "invalidparameter"
    assert too_long["exception"]["debuginfo"] == "idnumber is longer than 100 characters"
    assert php_call("util::clean_idnumber", "  lmsbridge:E1 ") == {"result": "lmsbridge:E1"}
    assert php_call("util::clean_name", "   ")["exception"]["debuginfo"] == "name must not be empty"
    assert php_call("util::clean_name", "", True) == {"result": ""}
    assert php_call("util::check_section", -1)["exception"]["debuginfo"] == "section must not be negative"
    warning = php_call("util::warning", "duplicateidnumber", "warn_duplicateidnumber", "lmsbridge:E1",
                       "idnumber")["result"]
    assert warning == {"item": "idnumber", "itemid": 0, "warningcode": "duplicateidnumber",
                       "message": "Several course modules carry idnumber lmsbridge:E1; the oldest one was used."}
