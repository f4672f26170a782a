"""Turn pydantic validation errors into located problems that say what to write instead."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.problems import Problem, did_you_mean
from pipeline.tomlfile import TomlFile

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A frozen model that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)


_EXPECTED = {
    "string_type": "text in quotes",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list in [ ]",
    "dict_type": "a table",
    "model_type": "a table",
    "date_type": "a date like 2027-02-09",
    "date_from_datetime_inexact": "a date like 2027-02-09 (no time)",
    "datetime_type": "a date and time like 2027-02-09T10:00",
    "literal_error": "",
    "enum": "",
}


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last key of `loc`, to list its valid keys."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            # a dict of models: keep the current value type
            continue
        ann = fields[part].annotation
        current = _inner_model(ann) or current
    return current if hasattr(current, "model_fields") else None


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def describe(error: dict[str, Any], model: type[BaseModel]) -> str:
    """One sentence for one pydantic error: the key, the value and what is expected."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = ".".join(str(p) for p in loc if not isinstance(p, int)) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        valid = sorted(owner.model_fields) if owner else []
        hint = did_you_mean(str(loc[-1]), valid)
        listing = f"; valid keys here: {', '.join(valid)}" if valid and not hint else ""
        return f"unknown key '{key}'{hint}{listing}"
    if kind == "missing":
        return f"missing required key '{key}'"
    if kind == "channel_key":
        # the input is the whole channel table, possibly with a secret in it: never echo it
        return f"[{key}] {error['ctx']['message']}"
    if kind == "quiet":
        return f"'{key}' {error['ctx']['message']}"
    value = error.get("input")
    expected = _EXPECTED.get(kind)
    if kind in ("literal_error", "enum"):
        expected = "one of " + str(error.get("ctx", {}).get("expected", ""))
    if expected is None or kind.startswith("value_error") or kind == "assertion_error":
        expected = str(error.get("ctx", {}).get("error", error["msg"]))
        expected = expected.removeprefix("Value error, ")
        return f"'{key}' = {value!r}: {expected}"
    return f"'{key}' = {value!r}: expected {expected}"


def validate(model: type[M], data: Any, source: TomlFile,
             base: tuple[Any, ...] = ()) -> tuple[M | None, list[Problem]]:
    """Validate `data` (found at `base` in `source`) as `model`; problems carry lines."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = (*base, *err["loc"])
            if err["type"] == "channel_key":
                loc = (*loc, err["ctx"]["key"])  # point at the offending key's own line
            problems.append(source.problem(loc, describe({**err, "loc": err["loc"]}, model)))
        return None, problems
