"""Command-line config values read as the types the schema wants.

``snakemake --config 'train={steps: 400}'`` parses the nested value with
YAML's BaseLoader, so every scalar inside arrives as a string ('400') and the
schema would refuse it. :func:`coerce_command_line_values` walks the config
beside its schema and turns such a string into the number, boolean or null
the schema asks for, with a log line per value; anything else is left for the
validation to judge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

_PYTHON_TYPES: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _load_schema(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _coerce(value: Any, schema: dict[str, Any], folder: Path, key: str) -> Any:
    if "$ref" in schema:
        ref = folder / schema["$ref"]
        return _coerce(value, _load_schema(ref), ref.parent, key)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = properties.get(name, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[name] = _coerce(item, sub, folder, f"{key}.{name}" if key else name)
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_coerce(item, schema["items"], folder, f"{key}[{i}]") for i, item in enumerate(value)]
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if not isinstance(value, str) or "string" in types or not set(types) & set(_PYTHON_TYPES):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, str) and "number" in types:  # YAML reads 1e-4 (no dot) as a string
        try:
            parsed = float(value)
        except ValueError:
            return value
    if isinstance(parsed, int) and not isinstance(parsed, bool) and "number" in types:
        parsed = parsed if "integer" in types else float(parsed)
    if any(_PYTHON_TYPES[t](parsed) for t in types if t in _PYTHON_TYPES):
        log.warning("config: %s = %r (a string from the command line) read as %r, the %s the schema wants",
                    key, value, parsed, " or ".join(types))
        return parsed
    return value


def coerce_command_line_values(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Turn strings where the schema wants a number, boolean or null into those types, in place.

    Parameters
    ----------
    config : the merged config (config files and ``--config`` values).
    schema_path : the top-level JSON schema (YAML); ``$ref`` to sibling files is followed.

    Returns
    -------
    ``config`` itself. Each converted value is logged (warning) with its key, e.g.
    ``config: train.steps = '400' (a string from the command line) read as 400``.
    Strings that do not parse as a wanted type are left for the schema validation to reject.
    """
    schema_path = Path(schema_path)
    return _coerce(config, _load_schema(schema_path), schema_path.parent, "")
