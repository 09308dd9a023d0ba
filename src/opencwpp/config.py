"""Configuration: `cwpp.yaml`, overridden by environment variables, overridden by flags.

The file is looked up in the working directory, then in the XDG config dir.

| key              | environment          | flag            |
|------------------|----------------------|-----------------|
| lake             | CWPP_LAKE            | --lake          |
| aws.profile      | AWS_PROFILE          | --profile       |
| aws.regions      | CWPP_REGIONS         | --regions       |
| trusted_accounts | CWPP_TRUSTED_ACCOUNTS| (config/env)    |
| mutelist         | CWPP_MUTELIST        | --mutelist      |
| output.format    | CWPP_REPORT_FORMAT   | -f/--format     |
| output.dir       | CWPP_OUTPUT_DIR      | -o/--output     |
| fail_on          | CWPP_FAIL_ON         | --fail-on       |
| detect.allow     | (config)             | --allowlist     |
| vuln.sources.<N> | CWPP_VULN_SOURCE_<N> | --source N=URL  |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opencwpp.core.errors import ConfigError
from opencwpp.core.models import Severity
from opencwpp.detect.allowlist import AllowEntry

CONFIG_NAME = "cwpp.yaml"
_ACCOUNT = re.compile(r"^\d{12}$")
_VULN_SOURCE_ENV = "CWPP_VULN_SOURCE_"


def xdg_dir(kind: str) -> Path:
    """The XDG base directory for `data` or `config`, with opencwpp's folder."""
    env, fallback = {
        "data": ("XDG_DATA_HOME", ".local/share"),
        "config": ("XDG_CONFIG_HOME", ".config"),
    }[kind]
    base = os.environ.get(env) or str(Path.home() / fallback)
    return Path(base) / "opencwpp"


def default_lake_url() -> str:
    """A DuckDB file in the user's XDG data dir."""
    return f"duckdb://{xdg_dir('data') / 'lake.duckdb'}"


class AwsSettings(BaseModel):
    """Where and as whom to collect AWS."""

    model_config = ConfigDict(extra="forbid")
    profile: str | None = None
    regions: list[str] = Field(default_factory=list)


class OutputSettings(BaseModel):
    """Report defaults."""

    model_config = ConfigDict(extra="forbid")
    format: str = "html"
    dir: Path = Path(".")


class DetectSettings(BaseModel):
    """Threat detection: known automation whose alerts are muted (with an owner and reason)."""

    model_config = ConfigDict(extra="forbid")
    allow: list[AllowEntry] = Field(default_factory=list)


class VulnSettings(BaseModel):
    """Advisory database: base URLs of the sources `vuln db update` downloads, by name."""

    model_config = ConfigDict(extra="forbid")
    sources: dict[str, str] = Field(default_factory=dict)


class Settings(BaseModel):
    """Every option opencwpp reads, after file, environment and flags are merged."""

    model_config = ConfigDict(extra="forbid")
    lake: str = Field(default_factory=default_lake_url)
    aws: AwsSettings = Field(default_factory=AwsSettings)
    trusted_accounts: list[str] = Field(default_factory=list)
    mutelist: Path | None = None
    output: OutputSettings = Field(default_factory=OutputSettings)
    fail_on: Severity | None = None
    detect: DetectSettings = Field(default_factory=DetectSettings)
    vuln: VulnSettings = Field(default_factory=VulnSettings)

    @field_validator("trusted_accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        for account in value:
            if not _ACCOUNT.match(str(account)):
                raise ValueError(f"not a 12-digit AWS account id: {account!r}")
        return [str(a) for a in value]


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file in use: the given one, ./cwpp.yaml, then the XDG config dir."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file not found: {explicit}")
        return explicit
    for candidate in (Path.cwd() / CONFIG_NAME, xdg_dir("config") / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if env.get("CWPP_LAKE"):
        out["lake"] = env["CWPP_LAKE"]
    aws: dict[str, Any] = {}
    if env.get("AWS_PROFILE"):
        aws["profile"] = env["AWS_PROFILE"]
    if env.get("CWPP_REGIONS"):
        aws["regions"] = _split(env["CWPP_REGIONS"])
    if aws:
        out["aws"] = aws
    if env.get("CWPP_TRUSTED_ACCOUNTS"):
        out["trusted_accounts"] = _split(env["CWPP_TRUSTED_ACCOUNTS"])
    if env.get("CWPP_MUTELIST"):
        out["mutelist"] = env["CWPP_MUTELIST"]
    output: dict[str, Any] = {}
    if env.get("CWPP_REPORT_FORMAT"):
        output["format"] = env["CWPP_REPORT_FORMAT"]
    if env.get("CWPP_OUTPUT_DIR"):
        output["dir"] = env["CWPP_OUTPUT_DIR"]
    if output:
        out["output"] = output
    if env.get("CWPP_FAIL_ON"):
        out["fail_on"] = env["CWPP_FAIL_ON"].lower()
    sources = {
        key.removeprefix(_VULN_SOURCE_ENV).lower(): value
        for key, value in env.items()
        if key.startswith(_VULN_SOURCE_ENV) and value
    }
    if sources:
        out["vuln"] = {"sources": sources}
    return out


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merges file < environment < flags (`overrides`, same shape as the file, None = unset)."""
    path = find_config_file(config_file)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from err
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings at the top level")
        raw = loaded
    merged = _merge(raw, _from_env(os.environ if env is None else env))
    merged = _merge(merged, _drop_none(overrides or {}))
    try:
        return Settings.model_validate(merged)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        source = str(path) if path is not None else "settings"
        raise ConfigError(f"{source}: {key}: {first['msg']}") from err


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            nested = _drop_none(value)
            if nested:
                out[key] = nested
        elif value is not None:
            out[key] = value
    return out
