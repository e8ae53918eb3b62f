"""Finding and reading policy files: `--policy nottingham` or `--policy path/to/file.toml`."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from .domain.policy import Policy, PolicyError, parse_policy

__all__ = ["PolicyError", "config_dir", "load_policy", "policy_names"]


def config_dir() -> Path:
    """The config/ folder: $LMS_BRIDGE_CONFIG_DIR, else the one beside the package."""
    override = os.environ.get("LMS_BRIDGE_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "config"


def policy_names() -> list[str]:
    return sorted(p.stem for p in (config_dir() / "policies").glob("*.toml"))


def resolve_policy_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml" or os.sep in name_or_path or "/" in name_or_path:
        return path
    return config_dir() / "policies" / f"{name_or_path}.toml"


def load_policy(name_or_path: str) -> tuple[Policy, str]:
    """The validated policy and its source text (kept for the store's record of what was used)."""
    path = resolve_policy_path(name_or_path)
    if not path.is_file():
        known = ", ".join(policy_names()) or "none found"
        raise PolicyError(f"policy {name_or_path!r}: no such policy file {path} (known policies: {known})")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from None
    return parse_policy(data, source=str(path)), text
