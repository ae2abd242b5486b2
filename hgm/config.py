"""Typed run configuration: YAML file plus dotted command-line overrides, validated strictly."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hgm import defaults
from hgm.sandboxes.config import SandboxConfig

USER_POLICIES = ("hgm", "reference", "dgm", "greedy", "random")


class ConfigError(ValueError):
    """A configuration problem the user can fix; the message says what and how."""


_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*"
    r"(?:(\d+(?:\.\d+)?)\s*s?)?\s*$"
)


def parse_duration(value: str | float | int) -> float:
    """Seconds from a number or a string such as '90', '90s', '15m', '2h', '1h30m', '1d'."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value)
    if not value.strip() or not match or not any(match.groups()):
        raise ValueError(f"cannot read duration {value!r}; use e.g. 90s, 15m, 2h or 1h30m")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BudgetConfig(Strict):
    max_evals: int = Field(defaults.MAX_EVALS, ge=1, description="Task evaluations the whole run may spend.")
    max_cost: float | None = Field(None, ge=0, description="USD the run may spend on models (None: no limit).")
    max_time: float | None = Field(None, ge=0, description="Wall-clock seconds of running, summed over resumes.")

    @field_validator("max_time", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return None if value is None else parse_duration(value)


class SearchConfig(Strict):
    alpha: float = Field(0.6, gt=0, le=1, description="Expand when evals**alpha >= nodes (0 < alpha <= 1).")
    cooling: bool = Field(False, description="Temperature tau = budget / remaining; off means tau = 1.")
    epsilon: float = Field(0.1, gt=0, lt=1, description="Lower posterior quantile used to name the best agent.")
    initial_evals: int = Field(5, ge=1, description="Tasks the root is evaluated on before the loop.")
    initial_expansions: int = Field(2, ge=0, description="Expansions of the root before the loop.")
    count_running_evals: bool = Field(False, description="N counts evaluations from their start, running ones too.")
    count_running_expansions: bool = Field(True, description="The tree size |T| counts running expansions.")
    count_failed: bool = Field(False, description="The tree size |T| counts failed self-modifications.")
    root_evals_in_budget: bool = Field(True, description="The root's initial evaluations are paid and count in N.")
    best_rule: Literal["quantile", "mean"] = Field(
        "quantile", description="Final pick: highest lower epsilon-quantile, or highest own mean."
    )
    dgm_batch: int = Field(10, ge=1, description="Tasks every new child gets under the dgm policy.")
    dgm_full: int = Field(50, ge=1, description="Tasks in all for a dgm child whose first batch reaches the threshold.")
    dgm_threshold: float = Field(0.4, ge=0, le=1, description="Mean on the first batch that earns a dgm child more.")

    @model_validator(mode="after")
    def _stages_in_order(self) -> SearchConfig:
        if self.dgm_full < self.dgm_batch:
            raise ValueError(f"dgm_full ({self.dgm_full}) must be >= dgm_batch ({self.dgm_batch})")
        return self


class SimConfig(Strict):
    landscape: str = Field(defaults.LANDSCAPE, description="Simulated landscape name (see `hgm run --help`).")
    latency: float = Field(
        defaults.SIM_LATENCY, ge=0, description="Artificial seconds each expansion and evaluation takes."
    )
    n_tasks: int = Field(200, ge=1, description="Number of simulated benchmark tasks.")
    cost_per_eval: float = Field(0.0, ge=0, description="Simulated USD per evaluation.")
    cost_per_expansion: float = Field(0.0, ge=0, description="Simulated USD per expansion.")


class RoleLimits(Strict):
    max_tokens: int | None = Field(None, gt=0, description="Completion tokens one model call may produce.")
    timeout: float | None = Field(None, gt=0, description="Seconds to wait for one answer (default 600).")


class ModelLimits(Strict):
    agent: RoleLimits = Field(default_factory=RoleLimits)
    selfmod: RoleLimits = Field(default_factory=RoleLimits)
    diagnosis: RoleLimits = Field(default_factory=RoleLimits)


class CodingConfig(Strict):
    benchmark: str = Field(defaults.BENCHMARK, description="Benchmark the agents are scored on.")
    benchmark_path: str | None = Field(None, description="Where the benchmark's tasks live (default: built in).")
    benchmark_options: dict[str, Any] = Field(default_factory=dict, description="The benchmark adapter's settings.")
    tasks: list[str] | None = Field(None, description="Only these task ids (default: every task).")
    subset: str | None = Field(None, description="Task ids to use: a file (one per line) or a benchmarks/subsets name.")
    seed_path: str | None = Field(None, description="Agent source to start from (default: agent_seed/).")
    model: str = Field(defaults.MODEL, description="litellm model name used for every role not set below.")
    api_base: str | None = Field(None, description="Endpoint of a local or self-hosted model server.")
    agent_model: str | None = Field(None, description="Model the agent solves tasks with.")
    selfmod_model: str | None = Field(None, description="Model the agent rewrites itself with.")
    diagnosis_model: str | None = Field(None, description="Model that diagnoses a failure and proposes a change.")
    agent_timeout: float = Field(900.0, gt=0, description="Seconds one agent run on a task may take.")
    selfmod_timeout: float = Field(1800.0, gt=0, description="Seconds one self-modification may take.")
    test_timeout: float = Field(300.0, gt=0, description="Seconds a child's own test suite may take.")
    input_cost_per_token: float | None = Field(None, ge=0, description="USD per prompt token (overrides litellm).")
    output_cost_per_token: float | None = Field(None, ge=0, description="USD per completion token (overrides).")
    max_cost_per_call: float | None = Field(None, ge=0, description="USD one model call may cost.")
    max_cost_per_node: float | None = Field(None, ge=0, description="USD all model calls for one node may cost.")
    limits: ModelLimits = Field(default_factory=ModelLimits)
    diagnosis_prompt_chars: int = Field(
        60_000, ge=4_000, description="Characters of the diagnosis prompt: size it to the model's context and speed."
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)


SELFMOD_MODES = ("classic", "meta")


class SelfmodConfig(Strict):
    mode: Literal["classic", "meta"] = Field(
        "classic",
        description="classic: hgm's fixed procedure improves the agent; meta: the agent's own improver does.",
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, value: Any) -> Any:
        if value not in SELFMOD_MODES:
            raise ValueError(
                f"unknown self-modification mode {value!r}; choose classic (hgm's fixed procedure) or meta "
                "(the agent's own agent_seed/improve/ package rewrites the agent, itself included)"
            )
        return value


MiB = 1024 * 1024


class ExecutionConfig(Strict):
    executor: Literal["local", "ray"] = Field("local", description="Where work runs: local threads or a Ray cluster.")
    ray_address: str | None = Field(
        None, description="Ray cluster address HOST:PORT (default: RAY_ADDRESS, else the cluster on this machine)."
    )
    cpus_per_job: float = Field(1.0, gt=0, description="Ray CPUs one expansion or evaluation holds on its node.")
    node_retries: int = Field(2, ge=0, description="Times work lost with a dead Ray node is run again elsewhere.")
    max_result_bytes: int = Field(
        32 * MiB, ge=MiB, description="Bytes of artefacts, and of a child's source, one job may send back."
    )
    gateway_host: str = Field(
        "127.0.0.1", description="Address the head's model gateway listens on for Ray nodes (coding world)."
    )
    check_timeout: float = Field(120.0, gt=0, description="Seconds each Ray node has to show it can run sandboxes.")

    @field_validator("ray_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None or value == "auto":
            return value
        host, sep, port = value.removeprefix("ray://").rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"a Ray address is HOST:PORT (e.g. 10.0.0.5:6379) or 'auto', not {value!r}")
        return value


class RunConfig(Strict):
    world: Literal["sim", "coding"] = Field(defaults.WORLD, description="What expanding and evaluating mean.")
    policy: Literal["hgm", "reference", "dgm", "greedy", "random", "bench"] = Field(
        defaults.POLICY,
        description="Search policy: hgm, or a baseline: reference (published HGM), dgm, greedy, random.",
    )
    workers: int = Field(defaults.WORKERS, ge=1, le=256, description="Expansions and evaluations run at once.")
    seed: int = Field(defaults.SEED, ge=0, description="Seed of every random choice.")
    shutdown_grace: float = Field(30.0, ge=0, description="Seconds in-flight work may finish after Ctrl-C.")
    max_consecutive_errors: int = Field(5, ge=1, description="Infrastructure errors in a row that stop the run.")
    max_failed_expansions: int = Field(20, ge=1, description="Failed self-modifications in a row that stop the run.")
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    sim: SimConfig = Field(default_factory=SimConfig)
    coding: CodingConfig = Field(default_factory=CodingConfig)
    selfmod: SelfmodConfig = Field(default_factory=SelfmodConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)

    @field_validator("policy", mode="before")
    @classmethod
    def _known_policy(cls, value: Any) -> Any:
        # `bench` (used by `hgm bench`) is accepted but not offered: it is no search.
        if value not in (*USER_POLICIES, "bench"):
            raise ValueError(f"unknown policy {value!r}; choose {', '.join(USER_POLICIES)}")
        return value

    @model_validator(mode="after")
    def _meta_runs_on_the_head(self) -> RunConfig:
        # The improver's evidence is written from the archive, which only the head has.
        if self.selfmod.mode == "meta" and self.execution.executor == "ray":
            raise ValueError(
                "selfmod.mode=meta runs only with execution.executor=local (the improver's evidence is read from "
                "the archive on the head); use selfmod.mode=classic on a Ray cluster"
            )
        return self


def valid_keys(model: type[BaseModel] = RunConfig, prefix: str = "") -> list[str]:
    """Every dotted key the config accepts."""
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.append(prefix + name)
            keys.extend(valid_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(prefix + name)
    return keys


def _unknown_key_message(key: str) -> str:
    close = difflib.get_close_matches(key, valid_keys(), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid_keys())}"
    return f"unknown config key '{key}'{hint}"


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return _unknown_key_message(key)
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"config key '{key}': {message} (got {first.get('input')!r})"


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """Apply one `a.b.c=value` override in place; the value is read as YAML."""
    if "=" not in assignment:
        raise ConfigError(f"override {assignment!r} is not of the form key=value (e.g. search.alpha=0.7)")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    if key not in valid_keys():
        raise ConfigError(_unknown_key_message(key))
    value = yaml.safe_load(raw) if raw.strip() else None
    target = data
    *parents, leaf = key.split(".")
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError(f"config key '{part}' is a section, not a value")
    target[leaf] = value


RESUMABLE_KEYS = (
    "budget.max_evals",
    "budget.max_cost",
    "budget.max_time",
    "workers",
    "shutdown_grace",
    "max_consecutive_errors",
    "max_failed_expansions",
    "sim.latency",
    *(f"execution.{key}" for key in ExecutionConfig.model_fields),
)
"""What `hgm resume` may change: budgets and how the run operates, never what it is (world, policy, seed, ...)."""


def resumed_config(frozen: dict[str, Any], overrides: list[str]) -> RunConfig:
    """A run's frozen config with only budget and operational keys overridden; any other key is an error."""
    for assignment in overrides:
        key = assignment.split("=", 1)[0].strip()
        if key in valid_keys() and key not in RESUMABLE_KEYS:
            raise ConfigError(
                f"'{key}' cannot change on resume, it is part of what the run is; resume changes only "
                f"{', '.join(RESUMABLE_KEYS)} (start a new run with `hgm run` to change {key})"
            )
    return load_config(base=_as_started(frozen), overrides=overrides)


# Settings added after archives already existed, with the value matching how such a run was started: a run frozen
# before a key existed resumes with the behaviour it began with, not with a newer default.
LEGACY_DEFAULTS: dict[str, dict[str, Any]] = {"search": {"count_failed": True}}


def _as_started(frozen: dict[str, Any]) -> dict[str, Any]:
    started = {key: dict(value) if isinstance(value, dict) else value for key, value in frozen.items()}
    for section, legacy in LEGACY_DEFAULTS.items():
        if isinstance(started.get(section), dict):
            for key, value in legacy.items():
                started[section].setdefault(key, value)
    return started


def load_config(path: Path | None = None, overrides: list[str] | None = None, base: dict | None = None) -> RunConfig:
    """Build a validated config from an optional base dict, an optional YAML file and overrides (in that order)."""
    data: dict[str, Any] = dict(base or {})
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of keys to values")
        data = _merge(data, loaded or {})
    for assignment in overrides or []:
        apply_override(data, assignment)
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
