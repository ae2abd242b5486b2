"""SWE-bench: the agent fixes a real repository's issue; swebench's own eval script and grading code decide.

The agent works in a container of the instance image as the image's own user (root in the official images) with
the image's `testbed` environment active, no network and the usual limits. Scoring follows the official harness:
the prediction is the workspace's `git diff` against the base commit; a fresh container of the instance image
(root, a writable root bounded by disk_mb) applies it with swebench's `git apply` fallbacks, runs the instance's
eval script (from swebench's TestSpec) with bash, and swebench's `get_eval_report` grades the log. One difference:
grading has no network unless eval_network is set. Works with swebench 4.x (eval scripts built from
MAP_REPO_VERSION_TO_SPECS) and 5.x (instances carry their eval_script).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hgm.coding.benchmarks.base import Grader, Score, TaskInfo, TestCase
from hgm.coding.benchmarks.registry import load_subset, parse_options
from hgm.coding.evidence import clip
from hgm.interfaces import Sandbox
from hgm.sandboxes.export import Export, ExportLimits

REPO_DIR = "/testbed"
# The official harness runs every container command as root, with root's home.
HARNESS_USER = "0:0"
HARNESS_HOME = "/root"
NO_NETWORK = re.compile(
    r"Temporary failure in name resolution|Could not resolve host|Network is unreachable|"
    r"Failed to establish a new connection|No matching distribution found"
)
OUTPUT_LIMIT = 20_000
PATCH = "model.patch"
DIFF_ERRORS = "diff-errors.txt"
TEST_LOG = "test_output.txt"
MiB = 1024 * 1024
PATCH_LIMITS = ExportLimits(max_files=4, max_file_bytes=16 * MiB, max_total_bytes=17 * MiB)
# Eval scripts install and print a lot; swebench's parser needs the test lines, which come last, so keep much.
LOG_LIMITS = ExportLimits(max_files=8, max_file_bytes=32 * MiB, max_total_bytes=40 * MiB)
REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement")
# What swebench 5 grades from; swebench 4 derives them from its own maps of repositories and versions.
V5_FIELDS = ("image", "eval_script", "log_parser", "eval_type")
GIT = "git -c core.fileMode=false -c core.hooksPath=/dev/null"
# Git refuses repositories owned by another user; in a sandbox the workspace root may belong to the image's owner.
# Environment-given config counts as command-line config, the only kind `safe.directory` is read from.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "safe.directory",
    "GIT_CONFIG_VALUE_0": "*",
}

STATEMENT = """\
{problem}

---
The repository {repo} is checked out in your working directory at commit {commit}. Resolve the issue above by
changing the repository's files. Hidden tests decide whether it is resolved. Only your changes to the repository,
taken as a `git diff` against that commit, are kept; changes to the test files the hidden tests use are
overwritten.
"""


class SWEbenchImageMissing(RuntimeError):
    """An instance's environment image is not on the Docker engine."""


class SWEbenchOptions(BaseModel):
    """Settings of the SWE-bench adapter."""

    model_config = ConfigDict(extra="forbid")

    split: str = Field("test", description="Dataset split to read when the path names a dataset, not a file.")
    subset: str | None = Field(None, description="A subset file, or a name in benchmarks/subsets/, listing ids.")
    repos: str | None = Field(
        None, description="Directory of git clones named owner__name; tasks then use it instead of their images."
    )
    namespace: str | None = Field("swebench", description="Registry namespace of instance images (swebench 4.x).")
    timeout: float = Field(1800, gt=0, description="Seconds the eval script may run.")
    task_repo: str | None = Field(
        None, description="swebench 5: the task repository (path or owner/name) whose Dockerfiles build images."
    )
    eval_network: bool = Field(
        False,
        description="Give grading containers network, as the official harness does; off by default because the code "
        "under test runs there and could fetch the upstream fix. Turn on for eval scripts that download packages.",
    )


def _swebench() -> None:
    try:
        import swebench  # noqa: F401
    except ImportError as e:
        raise ValueError("the swebench benchmark needs the swebench package: `pip install swebench`") from e


def make_test_spec(instance: dict[str, Any], namespace: str | None) -> Any:
    """swebench's TestSpec for an instance, with either major version of the package."""
    _swebench()
    try:
        from swebench.harness.test_spec.test_spec import make_test_spec as make_v4
    except ImportError:
        make_v4 = None
    iid = instance["instance_id"]
    try:
        if make_v4 is not None:
            return make_v4(instance, namespace=namespace)
        from swebench.harness.utils import make_test_spec as make_v5

        return make_v5(instance)
    except KeyError as e:
        if make_v4 is not None:
            raise ValueError(
                f"swebench has no environment spec for {instance['repo']} version {instance.get('version')!r} "
                f"(instance {iid}); it is missing from swebench's MAP_REPO_VERSION_TO_SPECS"
            ) from e
        raise ValueError(
            f"instance {iid} has no {e.args[0]!r} field: swebench 5 grades instances that carry their own image, "
            "eval_script, log_parser and eval_type (as the SWE-bench/SWE-bench_Verified dataset does); for an older "
            "export install swebench 4 (`pip install 'swebench<5'`)"
        ) from e
    except (TypeError, ValueError) as e:
        raise ValueError(f"instance {iid} is malformed: {e}") from e


def swebench_major() -> int:
    """The installed swebench's major version: 4 (TestSpecs from its own maps) or 5 (instances carry their scripts)."""
    _swebench()
    from importlib.util import find_spec

    return 4 if find_spec("swebench.harness.test_spec") is not None else 5


def check_fields(rows: list[dict[str, Any]]) -> None:
    """Refuse, in one line, classic rows that the installed swebench cannot make eval scripts for."""
    if swebench_major() == 4:
        return
    classic = [row for row in rows if any(not row.get(key) for key in V5_FIELDS)]
    if classic:
        missing = [key for key in V5_FIELDS if not classic[0].get(key)]
        raise ValueError(
            f"{len(classic)} of {len(rows)} SWE-bench instances (first: {classic[0]['instance_id']}) lack "
            f"{', '.join(missing)}, which swebench 5 grades from and has no way to derive; install swebench 4 "
            "(`pip install 'swebench>=4.1,<5'`), which derives them from the repository and version, or use a "
            "dataset export that carries them (such as SWE-bench/SWE-bench_Verified today)"
        )


def spec_image(spec: Any) -> str:
    """The instance image a TestSpec names (swebench 5: `image`; swebench 4: `instance_image_key`)."""
    return str(getattr(spec, "image", None) or spec.instance_image_key)


@cache
def git_apply_commands() -> tuple[str, ...]:
    """The patch-applying commands the official harness tries, in order."""
    from swebench.harness.run_evaluation import GIT_APPLY_CMDS

    return tuple(GIT_APPLY_CMDS)


def load_instances(path: str, split: str) -> list[dict[str, Any]]:
    """SWE-bench instances from a .json/.jsonl file, or a dataset that swebench's loader understands."""
    file = Path(path).expanduser()
    if file.suffix in (".json", ".jsonl"):
        if not file.is_file():
            raise ValueError(f"SWE-bench instance file {file} does not exist; pass a .json or .jsonl file of instances")
        return _read_instance_file(file)
    _swebench()
    from swebench.harness.utils import load_swebench_dataset

    try:
        return [dict(row) for row in load_swebench_dataset(path, split)]
    except Exception as e:  # datasets raises many kinds (connection, file, config) for one cause: cannot load
        raise ValueError(
            f"could not load the SWE-bench dataset {path!r} (split {split!r}): {type(e).__name__}: {e}. Dataset names "
            "are fetched from Hugging Face, which needs network access; on an offline machine export the dataset "
            "elsewhere (`datasets.load_dataset(name, split=...).to_json('instances.jsonl')`) and pass that file"
        ) from e


def _read_instance_file(file: Path) -> list[dict[str, Any]]:
    text = file.read_text(encoding="utf-8")
    try:
        if file.suffix == ".json":
            data = json.loads(text)
            rows = data if isinstance(data, list) else [data]
        else:
            rows = []
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{file}:{number}: not a JSON object: {e.msg}") from e
    except json.JSONDecodeError as e:
        raise ValueError(f"{file}:{e.lineno}: not valid JSON: {e.msg}") from e
    for number, row in enumerate(rows, 1):
        missing = [key for key in REQUIRED if not isinstance(row, dict) or key not in row]
        if missing:
            raise ValueError(f"{file}: instance {number} lacks {', '.join(missing)}; is this a SWE-bench file?")
    return rows


class SWEbenchBenchmark:
    """SWE-bench instances, each run in its environment image (or a local clone) and graded by swebench."""

    name = "swebench"
    attempts = 1

    def __init__(self, path: str, **options: Any) -> None:
        self.options: SWEbenchOptions = parse_options(SWEbenchOptions, self.name, options)
        _swebench()
        self.path = path
        rows = load_instances(path, self.options.split)
        check_fields(rows)
        self.instances = {row["instance_id"]: row for row in rows}
        self._ids = list(self.instances)
        if self.options.subset:
            self._ids = load_subset(self.options.subset, self._ids)
        if self.options.repos and not Path(self.options.repos).is_dir():
            raise ValueError(f"repos directory {self.options.repos} does not exist; pass a directory of git clones")
        self._specs: dict[str, Any] = {}

    # -- the Benchmark protocol --------------------------------------------------------------------------------

    def tasks(self) -> list[str]:
        """Instance ids, in dataset (or subset) order."""
        return list(self._ids)

    def info(self, task: str) -> TaskInfo:
        """The issue text, with a note on where the repository is and what is kept."""
        row = self._instance(task)
        statement = STATEMENT.format(
            problem=row["problem_statement"].strip(), repo=row["repo"], commit=row["base_commit"][:12]
        )
        return TaskInfo(task, statement, str(row.get("difficulty") or "unknown"), self.options.timeout, (row["repo"],))

    def prepare(self, task: str, workspace: Path) -> None:
        """Put the repository at its base commit into `workspace`, from the local clones or the instance image."""
        workspace.mkdir(parents=True, exist_ok=True)
        if self.options.repos:
            self._clone(task, workspace)
        else:
            self._extract(task, workspace)

    def submission(self, task: str, sandbox: Sandbox) -> Export:
        """The agent's changes as a binary-safe `git diff` against the base commit, taken in its own sandbox."""
        if sandbox.workdir != REPO_DIR:
            raise ValueError(
                f"SWE-bench eval scripts run in {REPO_DIR}, but the sandbox's workspace is at {sandbox.workdir}; "
                f"open the sandbox with workdir={REPO_DIR} (the benchmark's workdir(task))"
            )
        base = shlex.quote(self.instances[task]["base_commit"])
        token = secrets.token_hex(8)
        folder, home = f".git/hgm-prediction-{token}", f"/tmp/hgm-home-{token}"
        diff = f"{GIT} add -A && {GIT} diff --cached --binary --no-color --no-ext-diff {base}"
        # The diff runs where the agent worked; whatever it prints is only ever data for the grading sandbox. A
        # private index leaves the agent's own staging area as it was (a later attempt sees its work unchanged).
        cmd = f"mkdir -p {home} {folder} && {{ {diff} > {folder}/{PATCH} 2> {folder}/{DIFF_ERRORS}; }}"
        sandbox.exec(cmd, timeout=600, env={"HOME": home, "GIT_INDEX_FILE": f"{home}/index", **GIT_ENV})
        try:
            return sandbox.export(folder, PATCH_LIMITS)
        finally:
            sandbox.exec(f"rm -rf {folder} {home}", timeout=60)

    def grade(self, task: str, submission: Export, grader: Grader) -> Score:
        """Apply the diff to a pristine repository in a fresh sandbox and grade it the way the official harness does."""
        try:
            spec = self.spec(task)
        except ValueError as e:
            return Score(False, "", error=str(e))
        patch = submission.files.get(PATCH, b"")
        if not patch.strip():
            problem = submission.files.get(DIFF_ERRORS, b"").decode(errors="replace").strip()
            reason = "could not take the agent's diff" if problem else "the agent changed nothing"
            return Score(False, clip(problem or reason, OUTPUT_LIMIT), reason=reason)
        with tempfile.TemporaryDirectory(prefix="hgm-swebench-") as tmp:
            stage = Path(tmp) / "repository"
            stage.mkdir()
            if self.options.repos:
                self.prepare(task, stage)
                opened = grader.open(stage, workdir=REPO_DIR)
            else:
                # As the official harness: a fresh container of the instance image (its workspace starts as the
                # image's own pristine /testbed), root, a writable root for what the eval script installs.
                opened = grader.open(
                    stage,
                    image=self.image(task),
                    workdir=REPO_DIR,
                    user=HARNESS_USER,
                    writable_root=True,
                    network=self.options.eval_network,
                )
            with opened as sandbox:
                return _Grading(self, task, spec, sandbox, Path(tmp), patch).run()

    # -- optional members ----------------------------------------------------------------------------------------

    def image(self, task: str) -> str | None:
        """The instance's environment image, or None when the repository comes from local clones."""
        return None if self.options.repos else spec_image(self.spec(task))

    def environment(self, task: str) -> dict[str, str]:
        """The variables the instance's environment sets when activated (the `testbed` conda env of the official
        images, activated by the eval script's own first lines), for the agent's sandbox; none for local clones."""
        if self.options.repos:
            return {}
        spec = self.spec(task)
        return dict(activated_environment(spec_image(spec), activation_lines(spec.eval_script)))

    def workdir(self, task: str) -> str | None:
        """SWE-bench repositories live at /testbed, where the eval scripts expect them."""
        return REPO_DIR

    def feedback(self, task: str, score: Score) -> str:
        """SWE-bench gives one attempt; a retry (if one is forced) learns only that the issue is not resolved."""
        return "Your previous change did not resolve the issue; the hidden tests still fail."

    def available(self, task: str) -> str | None:
        """None if the task's repository can be had here, else what is missing and how to get it."""
        self._instance(task)
        if self.options.repos:
            clone = self._clone_dir(task)
            return None if _is_clone(clone) else f"no git clone of {self.instances[task]['repo']} at {clone}"
        try:
            return self._image_problem(task)
        except ValueError as e:
            return str(e)

    # -- public helpers ------------------------------------------------------------------------------------------

    def spec(self, task: str) -> Any:
        """swebench's TestSpec for the task."""
        if task not in self._specs:
            self._specs[task] = make_test_spec(self._instance(task), self.options.namespace)
        return self._specs[task]

    def fetch_images(self, tasks: list[str] | None = None) -> list[str]:
        """Pull the instance images that are missing; return the names still missing afterwards."""
        import docker.errors

        from hgm.sandboxes.image import docker_client, image_exists

        missing: list[str] = []
        client = docker_client(timeout=3600)
        try:
            for task in tasks if tasks is not None else self.tasks():
                name = spec_image(self.spec(task))
                if image_exists(client, name):
                    continue
                try:
                    client.images.pull(name)
                except docker.errors.APIError:
                    missing.append(name)
        finally:
            client.close()
        return missing

    def obtain_images(self, tasks: list[str] | None = None, log: Callable[[str], None] = print) -> list[str]:
        """Make the instance images of `tasks` present: pulled where a registry answers, else built with swebench's
        own builders (which download the repositories and their packages: network needed); return those missing."""
        from hgm.sandboxes.image import docker_client, image_exists

        chosen = list(self.tasks() if tasks is None else tasks)
        names = {task: spec_image(self.spec(task)) for task in chosen}
        missing = set(self.fetch_images(chosen))
        for task in chosen:
            log(f"{names[task]}: {'missing' if names[task] in missing else 'present'}")
        if not missing:
            return []
        todo = [task for task in chosen if names[task] in missing]
        log(
            f"{len(todo)} image(s) could not be pulled; building them with swebench {swebench_major()}'s builders, "
            "which needs network access (they clone the repositories and install their packages)"
        )
        try:
            self._build_images(todo, log)
        except Exception as e:  # swebench's builders fail in many ways (docker, git, pip); each means "not built"
            log(f"swebench could not build them: {type(e).__name__}: {e}")
        client = docker_client()
        try:
            return [names[task] for task in todo if not image_exists(client, names[task])]
        finally:
            client.close()

    def _build_images(self, tasks: list[str], log: Callable[[str], None]) -> None:
        from hgm.sandboxes.image import docker_client

        client = docker_client(timeout=3600)
        try:
            if swebench_major() == 4:
                from swebench.harness.docker_build import build_instance_images

                rows = [self.instances[task] for task in tasks]
                build_instance_images(
                    client, rows, force_rebuild=False, max_workers=1, namespace=self.options.namespace
                )
                return
            if not self.options.task_repo:
                raise ValueError(
                    "swebench 5 builds images from a task repository's Dockerfiles; pass "
                    "task_repo=<its path, or owner/name> in the benchmark options"
                )
            from swebench.image_builder.image_spec import ImageSpec
            from swebench.image_builder.prepare_images import main as prepare_images

            prepare_images(
                task_repo=self.options.task_repo,
                instance_ids=tasks,
                datasets=None,
                max_workers=1,
                force_rebuild=False,
                open_file_limit=4096,
                namespace=None,
                tag="latest",
                dry_run=False,
            )
            for task in tasks:  # the builder names images its own way; the dataset may name them otherwise
                built = ImageSpec(instance_id=task, dockerfile="-", namespace=None).name
                wanted = spec_image(self.spec(task))
                if built != wanted:
                    repository, _, tag = wanted.rpartition(":")
                    client.images.get(built).tag(repository, tag)
                    log(f"tagged {built} as {wanted}")
        finally:
            client.close()

    # -- internals -----------------------------------------------------------------------------------------------

    def _instance(self, task: str) -> dict[str, Any]:
        if task not in self.instances:
            raise KeyError(f"unknown SWE-bench instance {task!r}; `tasks()` lists the {len(self._ids)} in use")
        return self.instances[task]

    def _clone_dir(self, task: str) -> Path:
        assert self.options.repos is not None
        return Path(self.options.repos) / self.instances[task]["repo"].replace("/", "__")

    def _clone(self, task: str, dest: Path) -> None:
        """A shallow fetch of exactly the base commit, so no later history (and no fix) is in the workspace."""
        source = self._clone_dir(task)
        if not _is_clone(source):
            raise ValueError(f"no git clone of {self.instances[task]['repo']} at {source}")
        base = self.instances[task]["base_commit"]
        steps = [
            ["git", "init", "--quiet", str(dest)],
            ["git", "-C", str(dest), "fetch", "--quiet", "--depth", "1", source.resolve().as_uri(), base],
            ["git", "-C", str(dest), "checkout", "--quiet", "--detach", "FETCH_HEAD"],
        ]
        for argv in steps:
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode != 0:
                raise ValueError(f"could not check out {base} from {source}: {done.stderr.strip()}")

    def _image_problem(self, task: str) -> str | None:
        from hgm.sandboxes import docker_problem

        name = spec_image(self.spec(task))
        problem = docker_problem()
        if problem:
            return f"SWE-bench instances run in their images, and {problem}; or pass repos=<directory of clones>"
        from hgm.sandboxes.image import docker_client, image_exists

        client = docker_client()
        try:
            if image_exists(client, name):
                return None
        finally:
            client.close()
        return (
            f"the SWE-bench image {name} for {task} is not on the Docker engine; `hgm bench images --benchmark "
            f"swebench --path {self.path} --tasks {task}` pulls it, or builds it with swebench's own builders "
            "(network needed; swebench 5 also needs task_repo=<task repository> in the benchmark options)"
        )

    def _extract(self, task: str, dest: Path) -> None:
        """Copy /testbed out of the instance image (without starting it)."""
        problem = self._image_problem(task)
        if problem:
            raise SWEbenchImageMissing(problem)
        from hgm.sandboxes.image import docker_client

        client = docker_client(timeout=600)
        container = client.containers.create(spec_image(self.spec(task)), command=["true"])
        try:
            chunks, _ = container.get_archive(REPO_DIR)
            with tempfile.TemporaryFile() as buf:
                for chunk in chunks:
                    buf.write(chunk)
                buf.seek(0)
                with tempfile.TemporaryDirectory(dir=dest.parent) as unpack, tarfile.open(fileobj=buf) as tar:
                    tar.extractall(unpack, filter=_host_owned)
                    for item in Path(unpack, Path(REPO_DIR).name).iterdir():
                        item.rename(dest / item.name)
        finally:
            container.remove(force=True)
            client.close()


class _Grading:
    """One grading in a fresh sandbox: model patch in, swebench's apply commands, eval script, swebench's report."""

    def __init__(self, bench: SWEbenchBenchmark, task: str, spec: Any, sandbox: Sandbox, tmp: Path, patch: bytes):
        self.bench, self.task, self.spec, self.sandbox, self.tmp, self.patch = bench, task, spec, sandbox, tmp, patch
        token = secrets.token_hex(8)
        self.scratch = f".git/hgm-eval-{token}"
        # Local clones run as the sandbox's user; in an instance image grading runs as root, as the harness's does.
        self.env = {"HOME": f"/tmp/hgm-home-{token}", **GIT_ENV} if bench.options.repos else {"HOME": HARNESS_HOME}

    def run(self) -> Score:
        from swebench.harness.constants import APPLY_PATCH_FAIL, APPLY_PATCH_PASS

        stage = self.tmp / "eval"
        stage.mkdir()
        (stage / "model.patch").write_bytes(self.patch)
        (stage / "eval.sh").write_text(self.spec.eval_script, encoding="utf-8")
        self.sandbox.copy_in(stage, self.scratch)
        made = self._exec(f"mkdir -p {self.env['HOME']}", timeout=60)
        if made.returncode != 0:
            return Score(False, "", error=f"could not make a HOME in the grading sandbox: {made.output.strip()}")
        log = [f"model patch: {len(self.patch)} bytes"]
        applied = self._apply(log)
        if applied is None:
            return Score(False, "\n".join([*log, APPLY_PATCH_FAIL]), reason="the patch does not apply")
        log.append(f"{APPLY_PATCH_PASS} ({applied})")
        return self._evaluate(log)

    def _exec(self, cmd: str, timeout: float = 600) -> Any:
        return self.sandbox.exec(cmd, timeout=timeout, env=self.env)

    def _apply(self, log: list[str]) -> str | None:
        """The first of swebench's apply commands that takes the patch, or None."""
        patch = f"{self.scratch}/model.patch"
        for attempt, command in enumerate(git_apply_commands()):
            if attempt:
                self._exec(f"{GIT} checkout -- . ; {GIT} clean -fdq -e .git")
            result = self._exec(f"{command} {patch}")
            if result.returncode == 0:
                return command
            log.append(f"`{command}` failed:\n{clip(result.output, 4000)}")
        return None

    def _evaluate(self, log: list[str]) -> Score:
        from swebench.harness.grading import get_eval_report

        timeout = self.bench.options.timeout
        result = self._exec(f"bash {self.scratch}/eval.sh > {self.scratch}/{TEST_LOG} 2>&1", timeout=timeout)
        text = self.sandbox.export(self.scratch, LOG_LIMITS).files.get(TEST_LOG, b"").decode(errors="replace")
        if result.timed_out:
            return Score(
                False, "\n".join([*log, clip(text, OUTPUT_LIMIT)]), reason=f"tests timed out after {timeout:g}s"
            )
        (self.tmp / TEST_LOG).write_text(text, encoding="utf-8")
        patch = self.patch.decode(errors="replace")
        prediction = {"instance_id": self.task, "model_name_or_path": "hgm", "model_patch": patch}
        report = get_eval_report(self.spec, prediction, str(self.tmp / TEST_LOG), include_tests_status=True)
        verdict = report[self.task]
        summary, tests = _summary(verdict)
        reason = "resolved" if verdict["resolved"] else "the issue's tests do not pass"
        if not verdict["resolved"] and not self.bench.options.eval_network and NO_NETWORK.search(text):
            # A hint only: the log is written by the code under test, so it never turns a failure into an error.
            reason += "; the log shows network errors: if the eval script downloads packages, set eval_network=true"
        return Score(
            bool(verdict["resolved"]), "\n".join([*log, summary, clip(text, OUTPUT_LIMIT)]), reason=reason, tests=tests
        )


ENV_MARK = "\0HGM-ENV\0"
ENV_LIMIT = 1 * MiB
# Variables of the shell itself, not of the environment it activated.
SHELL_VARIABLES = {"PWD", "OLDPWD", "SHLVL", "_", "HOME", "HOSTNAME"}


def activation_lines(eval_script: str) -> tuple[str, ...]:
    """The lines with which an eval script activates its environment (`source .../activate`, `conda activate X`),
    from before its first `cd`."""
    found = []
    for line in eval_script.splitlines():
        text = line.strip()
        if text.startswith("cd "):
            break
        if re.match(r"^(source|\.)\s+\S*activate\b|^conda\s+activate\b", text):
            found.append(text)
    return tuple(found)


@cache
def activated_environment(image: str, lines: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What running `lines` in a throwaway container of `image` (as its own user, no network) changes in the
    environment, plus HGM_PYTHON: the python3 found before activation, which the agent itself keeps using."""
    if not lines:
        return ()
    import docker.errors

    from hgm.sandboxes.image import docker_client

    activate = "; ".join(lines)
    script = (
        f"command -v python3; printf '{ENV_MARK}'; env -0; printf '{ENV_MARK}'; "
        f"{{ {activate}; }} >/dev/null 2>&1; env -0"
    ).replace("\0", "\\0")
    client = docker_client(timeout=300)
    container = client.containers.create(
        image, entrypoint=["/bin/bash", "-c", script], network_mode="none", mem_limit="1g", pids_limit=256
    )
    try:
        container.start()
        container.wait(timeout=300)
        output = container.logs(stdout=True, stderr=False)[:ENV_LIMIT].decode(errors="replace")
    except (docker.errors.APIError, OSError) as e:
        raise ValueError(f"could not activate the environment of {image}: {e}") from e
    finally:
        container.remove(force=True)
        client.close()
    parts = output.split(ENV_MARK)
    if len(parts) != 3:
        raise ValueError(f"could not read the activated environment of {image}")
    python, before, after = parts[0].strip(), _env(parts[1]), _env(parts[2])
    changed = {k: v for k, v in after.items() if before.get(k) != v and k not in SHELL_VARIABLES}
    if python.startswith("/"):
        changed["HGM_PYTHON"] = python
    return tuple(sorted(changed.items()))


def _env(block: str) -> dict[str, str]:
    pairs = (entry.partition("=") for entry in block.split("\0") if "=" in entry)
    return {key: value for key, _, value in pairs}


def _is_clone(path: Path) -> bool:
    """Whether `path` is a git repository (with a work tree, or bare)."""
    return (path / ".git").exists() or (path / "HEAD").is_file()


def _host_owned(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """Extract safely, as files of whoever runs hgm rather than of the image's users."""
    member = tarfile.tar_filter(member, dest)
    return member.replace(uid=os.getuid(), gid=os.getgid(), uname="", gname="", deep=False)


def _summary(verdict: dict[str, Any]) -> tuple[str, list[TestCase]]:
    lines = [f"resolved: {'yes' if verdict['resolved'] else 'no'}"]
    tests: list[TestCase] = []
    status = verdict.get("tests_status") or {}
    for kind in ("FAIL_TO_PASS", "PASS_TO_PASS"):
        if kind in status:
            passed, failed = status[kind]["success"], status[kind]["failure"]
            lines.append(f"{kind}: {len(passed)} passed, {len(failed)} failed")
            lines += [f"  failed: {test}" for test in failed]
            tests += [TestCase(str(t), "passed", kind) for t in passed]
            tests += [TestCase(str(t), "failed", kind) for t in failed]
    if not status:
        lines.append("the test log could not be parsed (patch or test setup failed)")
    return "\n".join(lines), tests
