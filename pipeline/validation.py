"""Turn pydantic validation errors into located problems that say what to write instead."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

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


def key_error(key: str, message: str) -> PydanticCustomError:
    """A model validator's error about one key of its table: the message names that key's line
    and says what is wrong in its own words, without repeating the table."""
    return PydanticCustomError("table_key", "{message}", {"key": key, "message": message})


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
    if kind == "table_key":
        # the input is the whole table (a channel's may hold a secret): never echo it
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
        errors = exc.errors(include_url=False)
        # 'titel' for 'title' is one slip: its "missing 'title'" would say it twice
        meant = {(*err["loc"][:-1], close[0]) for err in errors if err["type"] == "extra_forbidden"
                 and (owner := _model_at(model, tuple(err["loc"])))
                 and (close := difflib.get_close_matches(str(err["loc"][-1]), list(owner.model_fields),
                                                         n=1, cutoff=0.6))}
        for err in errors:
            if err["type"] == "missing" and tuple(err["loc"]) in meant:
                continue
            loc = (*base, *err["loc"])
            if err["type"] == "table_key":
                loc = (*loc, err["ctx"]["key"])  # point at the offending key's own line
            problems.append(source.problem(loc, describe({**err, "loc": err["loc"]}, model)))
        return None, problems


def validate_each(model: type[M], data: Any, source: TomlFile
                  ) -> tuple[M | None, list[Problem], dict[str, list[int]], list[tuple[str, Any]]]:
    """Like validate(), but a bad table in a list of tables ([[post]], [[event]]...) is left out,
    its problems kept, and the others are read, so that one typo does not hide every other
    problem in the file. Also returns, per list, the index in the file of each table kept,
    and (list, id) of each table left out (its id as written, for follow-on references)."""
    parsed, problems = validate(model, data, source)
    if parsed is not None or not isinstance(data, dict):
        return parsed, problems, {}, []
    locs: list[tuple[Any, ...]] = []
    try:
        model.model_validate(data)
    except ValidationError as exc:
        locs = [tuple(e["loc"]) for e in exc.errors(include_url=False)]
    bad: dict[str, set[int]] = {}
    for loc in locs:
        if len(loc) < 2 or not isinstance(loc[1], int) or not isinstance(data.get(loc[0]), list):
            return None, problems, {}, []  # a problem with the file itself, not one table
        bad.setdefault(str(loc[0]), set()).add(loc[1])
    kept = {name: [i for i in range(len(data[name])) if i not in drop] for name, drop in bad.items()}
    rest = {**data, **{name: [data[name][i] for i in kept[name]] for name in bad}}
    try:
        parsed = model.model_validate(rest)
    except ValidationError:
        return None, problems, {}, []
    dropped = [(name, data[name][i].get("id") if isinstance(data[name][i], dict) else None)
               for name, drop in bad.items() for i in sorted(drop)]
    return parsed, problems, kept, dropped
