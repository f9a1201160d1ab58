"""The config against its JSON schema (YAML files in ``workflow/schemas/``).

``snakemake --config 'train={steps: 400}'`` parses the nested value with
YAML's BaseLoader, so every scalar inside arrives as a string ('400') and the
schema would refuse it. :func:`coerce_command_line_values` walks the config
beside its schema and turns such a string into the number, boolean or null
the schema asks for, with a log line per value; anything else is left for the
validation to judge.

:func:`validate_config` then checks the config and fills in the schema's
defaults, as ``snakemake.utils.validate`` does, with each schema file read
once (:func:`load_schema`): snakemake's reads every file again for each call
and each ``$ref``, with the pure-Python YAML parser (0.2 of the paper preset's
~5 CPU-s of DAG building went to reading the 7 schemas 13 times).
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import yaml

log = logging.getLogger(__name__)

_PYTHON_TYPES: dict[str, Callable[[Any], bool]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@functools.lru_cache(maxsize=None)
def _read_schema(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when built with it


def load_schema(path: str | Path) -> dict[str, Any]:
    """The schema in YAML (or JSON) file ``path``, read once per process: do not modify it."""
    return _read_schema(Path(path).resolve())


def _coerce(value: Any, schema: dict[str, Any], folder: Path, key: str) -> Any:
    if "$ref" in schema:
        ref = folder / schema["$ref"]
        return _coerce(value, load_schema(ref), ref.parent, key)
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
    return _coerce(config, load_schema(schema_path), schema_path.parent, "")


def _filling_defaults(validator_class):
    """``validator_class`` that also sets each missing property of an object to a copy of its ``default``
    (the extension of jsonschema's FAQ that ``snakemake.utils.validate`` uses)."""
    from jsonschema import validators

    check_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": properties})


def _validate(instance: Any, schema_path: Path) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    # relative $refs resolve against the file's URI and are read from the file they name
    schema = {**load_schema(schema_path), "$id": schema_path.resolve().as_uri()}
    registry = Registry(retrieve=lambda uri: Resource.from_contents(load_schema(url2pathname(urlparse(uri).path))))
    _filling_defaults(Draft202012Validator)(schema, registry=registry).validate(instance)


def validate_config(config: dict[str, Any], schema_path: str | Path) -> dict[str, Any]:
    """Check ``config`` against the schema and fill in its defaults, in place.

    Parameters
    ----------
    config : the merged config (after :func:`coerce_command_line_values`).
    schema_path : the top-level JSON schema (YAML); its sections are ``$ref`` s to sibling files.

    Returns
    -------
    ``config`` itself, with the defaults of the top-level schema and of each section's schema.
    A section is validated twice: within the whole config (errors name the full key,
    ``instance['encoding']['glm']['noise_model']``), then against its own schema, which fills its
    defaults (jsonschema checks a ``$ref`` 'd schema that names its ``$schema`` with that draft's plain
    validator, which fills none).

    Raises
    ------
    jsonschema.ValidationError
        the first value the schema refuses (an unknown key, a wrong type, a value out of range).
    """
    schema_path = Path(schema_path)
    _validate(config, schema_path)
    for name, subschema in load_schema(schema_path).get("properties", {}).items():
        if "$ref" in subschema and name in config:
            _validate(config[name], schema_path.parent / subschema["$ref"])
    return config
