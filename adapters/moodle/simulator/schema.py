"""Moodle's external-API descriptions: parameter validation, return cleaning and XML rendering.

A function declares its parameters and its answer as `Single` / `Multiple` / `Value` trees, as
`external_function_parameters` / `external_single_structure` / `external_multiple_structure` /
`external_value` do in PHP. The same tree drives three things, exactly as Moodle does:

- `validate_params`: the PHP-form arrays in, typed values out; missing keys, wrong types and
  unexpected keys become `invalidparameter` with Moodle's debuginfo text;
- `clean_returns`: the handler's answer in description order, optional keys left out when absent,
  defaults filled in, scalars cast (so JSON key order and types match the real server);
- `xmlize`: the XML body when `moodlewsrestformat` is not json, walking the description (absent
  optional keys print as `<VALUE null="null"/>` or an empty `<MULTIPLE>`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape as _escape
from typing import Any, Union

from .errors import MoodleError, invalid_parameter

REQUIRED, DEFAULT, OPTIONAL = "required", "default", "optional"

INT, BOOL, FLOAT = "int", "bool", "float"
TEXT, RAW, NOTAGS, ALPHA, ALPHANUMEXT, ALPHANUM, PLUGIN, COMPONENT, AREA = (
    "text", "raw", "notags", "alpha", "alphanumext", "alphanum", "plugin", "component", "area")
PATH, FILE, URL, TIMEZONE = "path", "file", "url", "timezone"

class Value:
    def __init__(self, type_: str, required: str = REQUIRED, default: Any = None, allownull: bool = True) -> None:
        self.type, self.required, self.default, self.allownull = type_, required, default, allownull


class Single:
    def __init__(self, keys: Mapping[str, Desc], required: str = REQUIRED, default: Any = None) -> None:
        self.keys, self.required, self.default = dict(keys), required, default


class Multiple:
    def __init__(self, content: Desc, required: str = REQUIRED, default: Any = None) -> None:
        self.content, self.required, self.default = content, required, default


Desc = Union[Value, Single, Multiple]


def req(type_: str) -> Value:
    return Value(type_)


def opt(type_: str) -> Value:
    return Value(type_, OPTIONAL)


def dflt(type_: str, default: Any) -> Value:
    return Value(type_, DEFAULT, default)


def warnings_desc() -> Multiple:
    """`external_warnings`."""
    return Multiple(Single({"item": opt(TEXT), "itemid": opt(INT), "warningcode": req(ALPHANUM),
                            "message": req(RAW)}), OPTIONAL)


# -- parameters ------------------------------------------------------------------------------------


def _php_str(value: Any) -> str:
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    return str(value)


def _print_r(value: Any, indent: int = 0) -> str:
    if isinstance(value, dict):
        pad = " " * indent
        inner = "".join(f"{pad}    [{k}] => {_print_r(v, indent + 8)}\n" for k, v in value.items())
        return f"Array\n{pad}(\n{inner}{pad})\n"
    return _php_str(value)


_TAG = re.compile(r"<(?!\s)[^>]*>?")


def clean_scalar(value: str, type_: str) -> Any:
    """PHP clean_param() for the types the simulated functions use."""
    if type_ == INT:
        match = re.match(r"\s*[+-]?\d+", value)
        return int(match.group()) if match else 0
    if type_ == FLOAT:
        match = re.match(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value)
        return float(match.group()) if match else 0.0
    if type_ == BOOL:
        low = value.strip().lower()
        if low in ("on", "yes", "true"):
            return 1
        if low in ("off", "no", "false"):
            return 0
        return 1 if clean_scalar(value, INT) else 0
    if type_ in (TEXT, NOTAGS):
        return _TAG.sub("", value)
    if type_ == ALPHA:
        return re.sub(r"[^a-zA-Z]", "", value)
    if type_ == ALPHANUM:
        return re.sub(r"[^a-zA-Z0-9]", "", value)
    if type_ == ALPHANUMEXT:
        return re.sub(r"[^a-zA-Z0-9_-]", "", value)
    if type_ in (PLUGIN, AREA):
        return value if re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", value) and "__" not in value else ""
    if type_ == COMPONENT:
        return value if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z][a-z0-9_]*)?[a-z0-9]", value) and "__" not in value else ""
    if type_ == FILE:
        return re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]', "", value)
    if type_ == PATH:
        return re.sub(r'[\x00-\x1f\x7f\\:*?"<>|]', "", value)
    return value  # RAW, URL, TIMEZONE


def _validate_value(desc: Value, params: Any) -> Any:
    if isinstance(params, (dict, list)):
        raise invalid_parameter("Scalar type expected, array or object received.")
    if desc.type == BOOL and (isinstance(params, bool) or params in (0, 1, "0", "1")):
        return bool(int(params))
    debuginfo = (f'Invalid external api parameter: the value is "{_php_str(params)}", '
                 f'the server was expecting "{desc.type}" type')
    if params is None:
        if desc.allownull:
            return None
        raise invalid_parameter(debuginfo)
    text = _php_str(params)
    cleaned = clean_scalar(text, desc.type)
    if desc.type == FLOAT:
        if not re.fullmatch(r"[+-]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]+)?", text) or text in ("", "+", "-", "."):
            raise invalid_parameter(debuginfo)
        return float(text)
    if _php_str(cleaned) != text:
        raise invalid_parameter(debuginfo)
    if desc.type == BOOL:
        return bool(cleaned)
    return cleaned


def validate_params(desc: Desc, params: Any) -> Any:
    """external_api::validate_parameters(): typed values, or `invalidparameter` naming the key."""
    if isinstance(desc, Value):
        return _validate_value(desc, params)
    if isinstance(desc, Single):
        if not isinstance(params, dict):
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{_print_r(params)}'")
        result: dict[str, Any] = {}
        remaining = dict(params)
        for key, sub in desc.keys.items():
            if key not in remaining:
                if sub.required == REQUIRED:
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                if sub.required == DEFAULT:
                    result[key] = _nested(key, sub, sub.default)
            else:
                result[key] = _nested(key, sub, remaining[key])
            remaining.pop(key, None)
        if remaining:
            names = ", ".join(str(k) for k in remaining)
            raise invalid_parameter(f"Unexpected keys ({names}) detected in parameter array.")
        return result
    if not isinstance(params, (dict, list)):
        raise invalid_parameter(f"Only arrays accepted. The bad value is: '{_print_r(params)}'")
    values = params.values() if isinstance(params, dict) else params
    return [validate_params(desc.content, item) for item in values]


def _nested(key: str, desc: Desc, value: Any) -> Any:
    try:
        return validate_params(desc, value)
    except MoodleError as error:
        raise invalid_parameter(f"{key} => {error.message}: {error.debuginfo}") from None


# -- answers ---------------------------------------------------------------------------------------


class ResponseError(Exception):
    """A handler answered something its description does not allow: a simulator bug."""


def clean_returns(desc: Desc | None, value: Any, path: str = "") -> Any:
    """external_api::clean_returnvalue(): description order, defaults, optional keys dropped, casts."""
    if desc is None:
        return None
    if isinstance(desc, Value):
        return _clean_value(desc, value, path)
    if isinstance(desc, Single):
        if not isinstance(value, dict):
            raise ResponseError(f"{path or 'answer'}: expected a structure, got {value!r}")
        out: dict[str, Any] = {}
        for key, sub in desc.keys.items():
            if key not in value:
                if sub.required == REQUIRED:
                    raise ResponseError(f"{path}/{key}: required key missing")
                if sub.required == DEFAULT and isinstance(sub, Value):
                    out[key] = _clean_value(sub, sub.default, f"{path}/{key}")
            else:
                out[key] = clean_returns(sub, value[key], f"{path}/{key}")
        return out
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ResponseError(f"{path or 'answer'}: expected a list, got {value!r}")
    return [clean_returns(desc.content, item, f"{path}[]") for item in value]


def _clean_value(desc: Value, value: Any, path: str) -> Any:
    if isinstance(value, (dict, list)):
        raise ResponseError(f"{path}: scalar expected")
    if value is None:
        return None
    if desc.type == BOOL:
        return bool(value)
    if desc.type == INT:
        return int(value)
    if desc.type == FLOAT:
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else float(value)
    if desc.type == RAW:
        return value
    return value if isinstance(value, str) else _php_str(value)


def _xml_scalar(value: Any) -> str:
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "<VALUE>" + _escape(str(value), quote=False).replace('"', "&quot;") + "</VALUE>\n"


def xmlize(value: Any, desc: Desc | None) -> str:
    """webservice_rest_server::xmlize_result()."""
    if desc is None:
        return ""
    if isinstance(desc, Value):
        return _xml_scalar(value)
    if isinstance(desc, Multiple):
        inner = "".join(xmlize(item, desc.content) for item in (value or []))
        return "<MULTIPLE>\n" + inner + "</MULTIPLE>\n"
    source = value if isinstance(value, dict) else {}
    inner = "".join(f'<KEY name="{key}">{xmlize(source.get(key), sub)}</KEY>\n' for key, sub in desc.keys.items())
    return "<SINGLE>\n" + inner + "</SINGLE>\n"
