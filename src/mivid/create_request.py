"""What a user asked a create to be, checked against its endpoint before anything is sent.

`CreateRequest` holds the create's JSON fields (the images are streamed apart,
by `mivid.request_body`) and the endpoint they go to. It is a plain frozen
dataclass, not a pydantic model, so `create` — run from scripts with `--json` —
does not pay pydantic's import. The fields and their rules are read from
`mivid.vocabulary.CREATE_FIELDS`, the allowed choices from the endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mivid import problems as rules
from mivid.endpoints import DEFAULT_ENDPOINT, Endpoint, endpoint_for_model
from mivid.problems import Problem
from mivid.vocabulary import (
    CHOICE,
    CREATE_FIELDS,
    FIELDS_BY_NAME,
    IDENTIFIER,
    MODEL,
    TEXT,
    URL,
    CreateField,
)


@dataclass(frozen=True)
class CreateRequest:
    """The JSON fields of a create, minus the images (streamed separately), and its endpoint."""

    values: Mapping[str, Any]  # by API field name, as the user gave them; None = left out
    endpoint: Endpoint = DEFAULT_ENDPOINT

    def fields(self) -> dict[str, Any]:
        """The body's fields in the contract's names and order, unset optionals left out."""
        body: dict[str, Any] = {}
        for spec in CREATE_FIELDS:
            value = spec.api_value(self.values.get(spec.name))
            if value is not None:
                body[spec.name] = value
        return body

    def __getattr__(self, name: str) -> Any:
        """A field's body value by its API name (`request.duration`, `request.watermark_info`)."""
        spec = FIELDS_BY_NAME.get(name)
        if spec is None:
            raise AttributeError(name)
        return spec.api_value(self.values.get(name))

    def replaced(self, **values: Any) -> CreateRequest:
        """The same request with some fields (by API name) given other values."""
        return replace(self, values={**self.values, **values})

    @property
    def prompt(self) -> str:
        return str(self.values.get("prompt") or "")

    @property
    def model_name(self) -> str:
        return str(self.values.get("model_name") or "")

    @property
    def external_task_id(self) -> str | None:
        value = self.values.get("external_task_id")
        return None if value is None else str(value)


@dataclass
class _Checker:
    endpoint: Endpoint
    found: list[Problem] = field(default_factory=list)

    def add(self, spec: CreateField, rule: str, detail: str, **figures: Any) -> None:
        self.found.append(Problem(spec.option, rule, detail, figures, field=spec.name))

    def check(self, spec: CreateField, value: Any) -> None:
        """The problems of one field's value (None: not given)."""
        if value is None:
            if spec.required:
                self.add(spec, rules.REQUIRED, "required")
            return
        must_have_text = spec.kind in (MODEL, IDENTIFIER) or (spec.kind == TEXT and spec.required)
        if must_have_text and not str(value).strip():
            self.add(spec, rules.EMPTY, "must not be empty")
            return
        if spec.max_chars is not None and len(str(value)) > spec.max_chars:
            self.add(
                spec,
                rules.TOO_LONG,
                f"{len(value)} characters — must be at most {spec.max_chars}",
                length=len(value),
                limit=spec.max_chars,
            )
        elif spec.kind == CHOICE and spec.choices is not None:
            allowed = self.endpoint.choices(spec.choices)
            if value not in allowed:
                self.add(
                    spec,
                    rules.NOT_A_CHOICE,
                    f"`{value}` is not one of {', '.join(allowed)}",
                    choices=allowed,
                )
        elif spec.kind == URL and not str(value).startswith(("http://", "https://")):
            self.add(spec, rules.NOT_A_URL, f"`{value}` must be an http:// or https:// URL")
        elif spec.kind == IDENTIFIER and any(
            ch.isspace() or ord(ch) < 32 or ch == "/" for ch in str(value)
        ):
            # It travels in a URL path when the task is looked up, where gateways
            # refuse an encoded `/`: such a task could never be found again.
            self.add(
                spec, rules.BAD_CHARACTERS, "must not contain `/`, spaces or control characters"
            )


def with_defaults(values: Mapping[str, Any], defaults: Mapping[str, str | None]) -> dict[str, Any]:
    """Values (by jobs-file name) with each field a user left out taken from `defaults`.

    `defaults` are the settings (`model`, `mode` …: flags > environment > config);
    what they leave out is the endpoint's own default, the endpoint being the one
    the model picks.
    """
    filled = dict(values)
    model = filled.get("model_name") or defaults.get("model") or DEFAULT_ENDPOINT.default_model
    endpoint = endpoint_for_model(model)
    for spec in CREATE_FIELDS:
        if spec.setting is not None and not filled.get(spec.in_jobs):
            filled[spec.in_jobs] = defaults.get(spec.setting) or endpoint.default(spec.setting)
    return filled


def check_create_request(
    values: Mapping[str, Any], *, endpoint: Endpoint | None = None
) -> tuple[CreateRequest, list[Problem]]:
    """Build the request from field values (by API name); return it with every problem found.

    The endpoint is the one given, or the one the model picks.
    """
    chosen = endpoint or endpoint_for_model(str(values.get("model_name") or ""))
    checker = _Checker(chosen)
    for spec in CREATE_FIELDS:
        checker.check(spec, values.get(spec.name))
        if values.get(spec.name) is not None and spec.name not in chosen.fields:
            checker.add(spec, rules.NOT_A_CHOICE, f"not accepted by {chosen.title}")
    known = {spec.name for spec in CREATE_FIELDS}
    request = CreateRequest(
        {name: value for name, value in values.items() if name in known}, chosen
    )
    return request, checker.found
