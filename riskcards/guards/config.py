"""The guard config file (``guards.yaml`` at the knowledge-base root): where each guard runs, and how.

    guards:
      llama-guard-3-8b-vllm:              # the guard id: results go to checks/<id>.jsonl
        adapter: llama-guard-3            # riskcards guard list shows the adapters
        model: llama-guard-3-8b           # the model record (models/<id>.yaml)
        model_name: meta-llama/Llama-Guard-3-8B   # the name the server serves
        transport: openai-chat            # or openai-completions, openai-moderation, local-transformers, python
        base_url: http://localhost:8000/v1
        api_key_env: VLLM_API_KEY         # the NAME of an environment variable; keys never go in files

Keys are read only from the environment variable that ``api_key_env`` names; a field holding a key is an
error, and so is an ``api_key_env`` value that looks like a key rather than a variable name (the value is
never echoed). Problems are located (``guards.yaml:line:col: ...``) and reported all at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import ids
from ..problems import Problem, display_path

if TYPE_CHECKING:
    from .transports import TransportConfig

CONFIG_NAME = "guards.yaml"
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
Scalar = str | int | float | bool | None


class GuardEntry(BaseModel):
    """One configured guard."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    adapter: Annotated[str, Field(pattern=ids.ID_PATTERN)]
    model: Annotated[str, Field(pattern=ids.ID_PATTERN)] = Field(description="The model record id (models/<id>.yaml).")
    model_name: str | None = Field(None, description="The model name the server is asked for (default: the model id).")
    transport: str = Field(description="A registered transport (riskcards guard transports lists them).")
    mode: Literal["chat", "completions"] | None = Field(
        None, description="For a transport that carries several request modes: the one to use."
    )
    base_url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    model_path: str | None = Field(None, description="For local-transformers: the local model folder.")
    api_key_env: str | None = Field(None, description="Name of the environment variable that holds the API key.")
    revision: str | None = Field(None, description="Model revision (commit sha); null when unknown.")
    params: dict[str, Scalar] = Field(default_factory=dict)
    categories: list[str] | None = None
    policies: list[str] | None = None
    template_file: str | None = None
    content_parts: bool = False
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict)
    logprobs: int | None = Field(None, ge=1, le=20, description="Ask for this many top logprobs (scores).")
    concurrency: int = Field(8, ge=1, le=512)
    timeout: float = Field(60.0, gt=0)
    retries: int = Field(4, ge=0, le=20)
    runtime: str | None = Field(None, description="Runtime versions to record, e.g. 'vllm 0.6.3 / A100'.")
    host: str | None = Field(None, description="Where it runs, to record (default: this machine's name).")
    test_double: bool = Field(False, description="A test double: its verdicts are never written into checks/.")
    description: str | None = None


class GuardsFile(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    guards: dict[Annotated[str, Field(pattern=ids.ID_PATTERN)], GuardEntry]


@dataclass(frozen=True)
class GuardConfig:
    """A configured guard, resolved: the entry plus its id and the folder its relative paths start from."""

    id: str
    entry: GuardEntry
    base: Path

    @property
    def model_name(self) -> str:
        return self.entry.model_name or self.entry.model

    @property
    def mode(self) -> str:
        from . import transports

        return self.entry.mode or transports.get(self.entry.transport).modes[0]

    def transport_config(self, **overrides: Any) -> TransportConfig:
        """How to reach this guard (relative paths resolved against the config's folder); ``overrides`` set
        fields for one run (a base_url, timeout, ...), None values are ignored."""
        from .transports import TransportConfig

        e = self.entry
        path = Path(e.model_path).expanduser() if e.model_path else None
        fields: dict[str, Any] = {
            "transport": e.transport,
            "base_url": e.base_url,
            "model_path": path if path is None or path.is_absolute() else self.base / path,
            "api_key_env": e.api_key_env,
            "timeout": e.timeout,
            "retries": e.retries,
            "concurrency": e.concurrency,
            "logprobs": e.logprobs,
            "test_double": e.test_double,
        }
        fields.update({k: v for k, v in overrides.items() if v is not None})
        return TransportConfig(**fields)

    def api_key(self) -> str | None:
        """The key from the environment, or None. Never logged, never stored."""
        name = self.entry.api_key_env
        return os.environ.get(name) if name else None


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.text() for p in problems))
        self.problems = problems


def config_path(root: Path, given: Path | None = None) -> Path:
    return Path(given) if given else Path(root) / CONFIG_NAME


def load_config(path: Path, root: Path | None = None) -> dict[str, GuardConfig]:
    """Every guard of the config file, by id. Raises ConfigError with every located problem."""
    from ..load import parse_yaml, read_text, yaml_error
    from ..locate import Locator

    shown = display_path(path, root)
    if not Path(path).is_file():
        raise ConfigError(
            [
                Problem(
                    shown,
                    1,
                    1,
                    f"no guard config; create {CONFIG_NAME} (see the README) or pass --config",
                    "guard-config",
                )
            ]
        )
    text, problems = read_text(Path(path), shown)
    if text is None:
        raise ConfigError(problems)
    try:
        data = parse_yaml(text)
    except Exception as exc:  # yaml_rs raises its own error type
        line, col, msg = yaml_error(exc, text)
        raise ConfigError([Problem(shown, line, col, msg, "yaml-syntax")]) from None
    loc = Locator(text)
    problems = []
    if not isinstance(data, dict):
        raise ConfigError(
            [Problem(shown, 1, 1, "the guard config is a mapping with one key, 'guards'", "guard-config")]
        )
    # Keys never go in files: name such fields precisely before the schema says 'unknown field'.
    for gid, entry in (data.get("guards") or {}).items() if isinstance(data.get("guards"), dict) else []:
        if not isinstance(entry, dict):
            continue
        for key in entry:
            if re.fullmatch(r"(api[_-]?)?(key|token|secret|password)s?", str(key), re.IGNORECASE) or str(
                key
            ).lower() in ("api_key", "apikey", "authorization"):
                line, col = loc.find(("guards", gid, key), key=True)
                problems.append(
                    Problem(
                        shown,
                        line,
                        col,
                        (
                            f"'{key}': keys never go in files; put the NAME of an environment variable "
                            "in 'api_key_env' (e.g. api_key_env: OPENAI_API_KEY) and export the key there"
                        ),
                        "guard-config",
                    )
                )
        env = entry.get("api_key_env")
        if isinstance(env, str) and not ENV_NAME.match(env):
            line, col = loc.find(("guards", gid, "api_key_env"))
            problems.append(
                Problem(
                    shown,
                    line,
                    col,
                    (
                        "'api_key_env' names an environment variable (upper-case letters, digits, '_', "
                        "e.g. OPENAI_API_KEY), not the key itself; if a key was written here, revoke it"
                    ),
                    "guard-config",
                )
            )
    if problems:
        raise ConfigError(problems)
    try:
        parsed = GuardsFile.model_validate(data)
    except ValidationError as exc:
        from ..validate import _data_path, schema_message

        for err in exc.errors(include_url=False):
            p = _data_path(data, err["loc"])
            if len(p) >= 3 and p[0] == "guards" and isinstance(data["guards"].get(p[1]), dict):
                message, at_key = schema_message(err, GuardEntry, data["guards"][p[1]], p[2:])  # one guard's fields
            else:
                message, at_key = schema_message(err, GuardsFile, data, p)
            line, col = loc.key_of_parent(p[:-1]) if err["type"] == "missing" else loc.find(p, key=at_key)
            problems.append(Problem(shown, line, col, message, "guard-config"))
        raise ConfigError(problems) from None
    out = {}
    for gid, entry in parsed.guards.items():
        problems.extend(_check_entry(gid, entry, loc, shown))
        out[gid] = GuardConfig(gid, entry, Path(path).parent)
    if problems:
        raise ConfigError(problems)
    return out


def _check_entry(gid: str, e: GuardEntry, loc, shown: str) -> list[Problem]:
    from . import adapters, transports

    out = []

    def add(field: str, message: str) -> None:
        line, col = loc.find(("guards", gid, field))
        out.append(Problem(shown, line, col, message, "guard-config"))

    if isinstance(e.base_url, str):
        from ..validate.common import endpoint_problem

        if why := endpoint_problem(e.base_url):
            add("base_url", f"base_url {why}")
            return out
    try:
        adapter = adapters.get(e.adapter)
    except KeyError as exc:
        add("adapter", str(exc.args[0]))
        return out
    try:
        transport = transports.get(e.transport)
    except KeyError as exc:
        add("transport", str(exc.args[0]))
        return out
    hints = {"base_url": "(e.g. http://localhost:8000/v1)", "model_path": "(a local model folder)"}
    for name in transport.requires:
        if not getattr(e, name, None):
            add("transport", f"transport '{e.transport}' needs '{name}' {hints.get(name, '')}".rstrip())
    if e.mode and e.mode not in transport.modes:
        add("mode", f"transport '{e.transport}' carries mode {' or '.join(repr(m) for m in transport.modes)}")
    elif e.mode and len(transport.modes) == 1:
        add(
            "mode",
            f"'mode' is for a transport with several modes; transport '{e.transport}' has '{transport.modes[0]}'",
        )
    from .adapters.base import Settings

    mode = e.mode or transport.modes[0]
    for msg in adapter.check_settings(
        Settings(
            mode=mode,
            categories=tuple(e.categories) if e.categories else None,
            policies=tuple(e.policies) if e.policies else None,
        )
    ):
        add("adapter" if "mode" in msg else ("categories" if e.categories else "policies"), msg)
    return out


def settings_for(cfg: GuardConfig):
    """The adapter settings of a configured guard (reads the template file, if any)."""
    from . import adapters
    from .adapters.base import Settings

    adapter = adapters.get(cfg.entry.adapter)
    e = cfg.entry
    template_text = None
    if e.template_file:
        tpath = Path(e.template_file)
        tpath = tpath if tpath.is_absolute() else cfg.base / tpath
        template_text = tpath.read_text(encoding="utf-8")
    params = {**adapter.default_params, **e.params}
    return Settings(
        mode=cfg.mode,
        params=params,
        categories=tuple(e.categories) if e.categories else None,
        policies=tuple(e.policies) if e.policies else None,
        template_text=template_text,
        content_parts=e.content_parts,
        chat_template_kwargs=e.chat_template_kwargs,
    )
