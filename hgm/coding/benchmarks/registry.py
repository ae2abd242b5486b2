"""Benchmarks by name, imported lazily so heavy adapters (swebench) stay off the start-up path; named subsets."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from hgm.coding.benchmarks import Benchmark

SUBSETS_DIR = Path(__file__).resolve().parents[3] / "benchmarks" / "subsets"

# name -> (module:class, what `path` must be, or None if the benchmark needs no path)
BENCHMARKS: dict[str, tuple[str, str | None]] = {
    "builtin": ("hgm.coding.benchmarks.builtin:BuiltinBenchmark", None),
    "swebench": (
        "hgm.coding.benchmarks.swebench:SWEbenchBenchmark",
        "a SWE-bench dataset: a .json/.jsonl file of instances, a saved dataset directory, or a Hugging Face "
        "dataset name such as SWE-bench/SWE-bench_Verified",
    ),
    "polyglot": (
        "hgm.coding.benchmarks.polyglot:PolyglotBenchmark",
        "a checkout in the Polyglot benchmark layout (<language>/exercises/practice/<exercise>/), such as a clone "
        "of github.com/Aider-AI/polyglot-benchmark",
    ),
    "custom": (
        "hgm.coding.benchmarks.custom:CustomBenchmark",
        "a YAML file describing the suite (see benchmarks/README.md)",
    ),
}


def make_benchmark(name: str, path: str | None = None, **options: Any) -> Benchmark:
    """The benchmark called `name`, reading its tasks from `path`; `options` are the adapter's own settings."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; available: {', '.join(BENCHMARKS)}")
    target, needs = BENCHMARKS[name]
    if needs is not None and not path:
        raise ValueError(f"the {name} benchmark needs a path: pass {needs}")
    module, cls = target.split(":")
    factory = getattr(importlib.import_module(module), cls)
    if name == "builtin":
        return _builtin(factory, path, options)
    return factory(path, **options)  # type: ignore[no-any-return]


def _builtin(factory: Any, path: str | None, options: dict[str, Any]) -> Benchmark:
    unknown = sorted(set(options) - {"python"})
    if unknown:
        raise ValueError(f"unknown option(s) for the builtin benchmark: {', '.join(unknown)}; known: python")
    try:
        return factory(Path(path) if path else None, **options)  # type: ignore[no-any-return]
    except FileNotFoundError as e:
        raise ValueError(str(e)) from e


def parse_options(model: type[BaseModel], benchmark: str, options: dict[str, Any]) -> Any:
    """`options` validated by an adapter's pydantic model, with an error that names each bad option."""
    try:
        return model.model_validate(options)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'options'}: {err['msg']}" for err in e.errors())
        raise ValueError(f"invalid options for the {benchmark} benchmark: {problems}") from None


def subset_path(subset: str) -> Path:
    """The file a subset names: a path to a file, or the name of one in benchmarks/subsets/ (with or without .txt)."""
    given = Path(subset).expanduser()
    if given.is_file():
        return given
    for candidate in (SUBSETS_DIR / subset, SUBSETS_DIR / f"{subset}.txt"):
        if "/" not in subset and candidate.is_file():
            return candidate
    known = sorted(p.stem for p in SUBSETS_DIR.glob("*.txt")) if SUBSETS_DIR.is_dir() else []
    raise ValueError(
        f"subset {subset!r} is neither a file nor a name in {SUBSETS_DIR}; "
        f"known names: {', '.join(known) or 'none'}. A subset file lists one task id per line."
    )


def load_subset(subset: str, available: list[str]) -> list[str]:
    """The task ids a subset file lists (one per line; blank lines and `#` comments ignored), all of them known."""
    path = subset_path(subset)
    ids: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry and entry not in ids:
            ids.append(entry)
    if not ids:
        raise ValueError(f"subset file {path} lists no task ids")
    known = set(available)
    unknown = [i for i in ids if i not in known]
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise ValueError(f"subset file {path} names tasks the benchmark does not have: {shown}")
    return ids
