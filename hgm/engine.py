"""The asynchronous scheduler: decides, runs work on a thread pool, commits results, honours budgets and signals."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hgm.archive import Archive, NodeRow, WorkRow
from hgm.config import RunConfig
from hgm.execution import Executor, make_executor
from hgm.interfaces import Evaluation, Expansion, NodeRef, World
from hgm.interrupts import BUDGET, DONE, ERRORS, INTERRUPTED, Interrupts
from hgm.policy import Decision, SearchParams, make_policy
from hgm.runlog import run_log
from hgm.scratch import mkdtemp, run_scratch
from hgm.tree import Tree
from hgm.views.story import commit_message

CANCELLED = "cancelled"
CANCEL_WAIT = 10.0
"""Seconds cancelled work may take to return before the engine stops waiting for it and leaves it behind."""
TASK_ATTEMPTS = 3
"""Infrastructure errors after which a task is given up on a node: it is not retried and counts as spent budget."""
NOTHING_LEFT = "nothing left to do: every node has been evaluated on every task and none has a success to expand"


@dataclass
class Job:
    k: int
    kind: str
    node: int
    task: str | None = None
    child: int | None = None
    scratch: Path | None = None
    sha: str | None = None

    def describe(self) -> str:
        return (
            f"expand {self.node} -> {self.child}" if self.kind == "expand" else f"evaluate {self.node} on {self.task}"
        )


@dataclass
class Snapshot:
    """What the live display and the final summary show."""

    evals_done: int
    eval_budget: int
    nodes: int
    failed_nodes: int
    running: list[str]
    best: int | None
    best_own: tuple[int, int]
    spent: float
    max_cost: float | None
    elapsed: float
    stop_reason: str


def search_params(config: RunConfig) -> SearchParams:
    return SearchParams(**config.search.model_dump(), workers=config.workers)


class Engine:
    """Runs (or resumes) one search over a World, with the archive as the single source of truth."""

    def __init__(
        self,
        archive: Archive,
        world: World,
        config: RunConfig,
        on_tick: Callable[[Snapshot], None] | None = None,
        interrupts: Interrupts | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.archive = archive
        self.world = world
        self.config = config
        # An executor made here (from `execution.*`) is the engine's to close; one passed in is the caller's.
        self._owns_executor = executor is None
        self.executor = executor if executor is not None else make_executor(config.execution, world)
        self.on_tick = on_tick
        self.params = search_params(config)
        self.policy = make_policy(config.policy, self.params)
        self.tasks = world.tasks()
        self.cancel = threading.Event()
        self.stopping = False
        self.stop_reason = ""
        self.stop_kind = ""
        self.interrupts = interrupts
        self._interrupts_seen = 0
        self._stop_requested_at: float | None = None
        self._cancelled_at: float | None = None
        self.abandoned = False
        self.running: dict[Future[Any], Job] = {}
        self._buffered: dict[int, NodeRow] = {}
        self._consecutive_errors = 0
        self._task_errors: Counter[tuple[int, str]] = Counter()
        self._failed_expansions = 0
        self._elapsed_before = float(archive.meta("elapsed") or 0)
        self._t0 = time.monotonic()
        self._elapsed_saved = self._t0
        self._commits: dict[int, str | None] = {}
        self.tree = Tree(self.tasks)
        self._pending: list[WorkRow] = []
        self._children_started: set[int] = set()
        self.spent = 0.0
        self.db_costs: dict[str, list[float]] = {"expand": [], "evaluate": []}
        self._k = 0

    # -- state ------------------------------------------------------------------------------------------------

    def _ensure_root(self) -> None:
        if self.archive.node(0) is not None:
            return
        with tempfile.TemporaryDirectory(prefix="hgm-seed-") as tmp:
            true_q = self.world.write_seed(Path(tmp))
            sha = self.archive.commit_source(0, Path(tmp), None, "node 0: seed agent")
        self.archive.add_root(sha, true_q)
        self.archive.event("root", commit=sha)

    def _rebuild(self) -> None:
        """Rebuild the in-memory tree from the database; work in flight when the last process died runs again."""
        for row in self.archive.nodes():
            self._commits[row.id] = row.commit_sha
            self._buffered[row.id] = row
        self._flush_nodes()
        # Children that finished before a lower id did wait outside the tree, counted as in flight as they were.
        for row in self._buffered.values():
            assert row.parent is not None
            self.tree.start_expand(row.parent)
            self._children_started.add(row.id)
        for ev in self.archive.evaluations():
            assert ev.task is not None and ev.success is not None
            self.tree.start_eval(ev.node, ev.task)
            self.tree.finish_eval(ev.node, ev.task, ev.success)
        for error in self.archive.work(kind="evaluate", status="error"):
            assert error.task is not None
            self._task_errors[(error.node, error.task)] += 1
            if self._task_errors[(error.node, error.task)] == TASK_ATTEMPTS:
                self.tree.start_eval(error.node, error.task)  # given up: reserved for good, never finished
        self._pending = self.archive.work(status="running") + self.archive.work(status="interrupted")
        self._pending.sort(key=lambda row: row.k)

    def _flush_nodes(self) -> None:
        """Add finished children to the tree in id order, so ids stay dense even when expansions finish out of order."""
        while self.tree.n_nodes in self._buffered:
            row = self._buffered.pop(self.tree.n_nodes)
            if row.id in self._children_started:
                assert row.parent is not None
                self.tree.finish_expand(row.parent)
                self._children_started.discard(row.id)
            self.tree.add_node(row.id, row.parent)
            if row.status == "failed":
                self.tree.mark_failed(row.id)

    # -- budgets ----------------------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return self._elapsed_before + time.monotonic() - self._t0

    def _cost_estimate(self, kind: str) -> float:
        rows = self.db_costs.get(kind, [])
        return float(np.mean(rows)) if rows else 0.0

    def _budget_stop(self) -> str:
        budget = self.config.budget
        if budget.max_time is not None and self.elapsed() >= budget.max_time:
            return "time budget reached"
        if budget.max_cost is not None:
            committed = self.spent + sum(self._cost_estimate(job.kind) for job in self.running.values())
            if committed + max(self._cost_estimate("expand"), self._cost_estimate("evaluate")) > budget.max_cost:
                return "cost budget reached"
        return ""

    # -- the loop ---------------------------------------------------------------------------------------------

    def run(self) -> str:
        """Run until the budget is spent, nothing is left to do, or a stop is requested; return why it stopped."""
        try:
            with run_scratch(self.archive.path), run_log(self.archive):
                if self.interrupts is not None:
                    return self._run()
                self.interrupts = Interrupts()
                with self.interrupts.installed():
                    return self._run()
        finally:
            if self._owns_executor:
                self.executor.close()

    def _run(self) -> str:
        self._ensure_root()
        self._rebuild()
        self.spent = self.archive.spent()
        for row in self.archive.work(status="done"):
            self.db_costs[row.kind].append(row.cost)
        self._k = self.archive.next_k()
        self.archive.event("start", pid=os.getpid(), evals=self.tree.n_evals, nodes=self.tree.n_nodes)
        pool = ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="hgm-work")
        try:
            while True:
                self._poll_interrupts()
                if not self.stopping:
                    self._fill(pool)
                if not self.running:
                    break
                done, _ = wait(list(self.running), timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    self._apply(self.running.pop(future), future)
                self._check_grace()
                self._tick()
                if self._given_up_waiting():
                    break
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            if self.running:
                self.cancel.set()
            for job in list(self.running.values()):
                self.archive.interrupt_work(job.k, "process stopping")
                _cleanup(job)
            self.running.clear()
            self.archive.set_meta("elapsed", str(self.elapsed()))
            self._finish()
        return self.stop_reason

    def _poll_interrupts(self) -> None:
        assert self.interrupts is not None
        count = self.interrupts.count
        # The first signal stops scheduling; a second one cancels the work in flight.
        for _ in range(min(count - self._interrupts_seen, 2)):
            self.request_stop(f"interrupted by {self.interrupts.last.name}", INTERRUPTED)
        self._interrupts_seen = count

    def _fill(self, pool: ThreadPoolExecutor) -> None:
        # Work in flight when the last process stopped runs again first, with the ids and tasks it had.
        for row in self._pending:
            self.archive.restart_work(row.k)
            self._submit(pool, Job(row.k, row.kind, row.node, row.task, row.child))
        self._pending = []
        while len(self.running) < self.config.workers:
            reason = self._budget_stop()
            if reason:
                self.stop_reason, self.stop_kind = reason, BUDGET
                return
            decision = self.policy.decide(self.tree, self.config.budget.max_evals, self._rng(self._k))
            if decision is not None:
                decision = self._justified(decision)
            if decision is None:
                if not self.running and not self.stop_reason:
                    # Tasks given up after repeated errors stay in flight for good, and count as spent.
                    spent = self.policy.charged(self.tree) >= self.config.budget.max_evals
                    done = getattr(self.policy, "done_reason", NOTHING_LEFT)
                    self.stop_reason = "evaluation budget spent" if spent else done
                    self.stop_kind = BUDGET if spent else DONE
                return
            self._start(pool, decision)

    def _justified(self, decision: Decision) -> Decision | None:
        """The decision if the evaluation budget left can pay for it; else the evaluation owed first, or nothing."""
        tree = self.tree
        left = self.config.budget.max_evals - self.policy.charged(tree)
        if left <= 0:
            return None
        if decision.kind != "expand":
            return decision
        # A child is worth something only once evaluated, and every node not yet evaluated is owed an evaluation.
        unevaluated = np.flatnonzero((tree.reserved == 0) & ~tree.failed)
        if unevaluated.size + tree.n_expansions_in_flight < left:
            return decision
        if unevaluated.size == 0:
            return None
        node = int(unevaluated[0])
        tasks = tree.tasks_left(node)
        rng = np.random.default_rng([self.config.seed, 4, self._k])
        return Decision("evaluate", node, tasks[int(rng.integers(len(tasks)))])

    def _rng(self, k: int) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, 0, k])

    def _start(self, pool: ThreadPoolExecutor, decision: Decision) -> None:
        k = self._k
        self._k += 1
        if decision.kind == "expand":
            child = self.archive.start_work(k, "expand", decision.node)
            job = Job(k, "expand", decision.node, child=child)
        else:
            assert decision.task is not None
            job = Job(k, "evaluate", decision.node, task=decision.task)
            self.archive.start_work(k, "evaluate", decision.node, task=decision.task)
        self._submit(pool, job)

    def _submit(self, pool: ThreadPoolExecutor, job: Job) -> None:
        if job.kind == "expand":
            assert job.child is not None
            self.tree.start_expand(job.node)
            self._children_started.add(job.child)
            future: Future[Any] = pool.submit(self._expand, job)
        else:
            assert job.task is not None
            self.tree.start_eval(job.node, job.task)
            future = pool.submit(self._evaluate, job)
        self.running[future] = job

    # -- work (runs on pool threads) -----------------------------------------------------------------------------

    def _ref(self, node: int, scratch: Path) -> NodeRef:
        sha = self._commits[node]
        assert sha is not None, f"node {node} has no source"
        source = scratch / f"node-{node}"
        self.archive.checkout(sha, source)
        return NodeRef(node, self.tree.parent(node), source)

    def _expand(self, job: Job) -> Expansion:
        job.scratch = mkdtemp(f"hgm-expand-{job.child}-")
        dest = job.scratch / "child"
        dest.mkdir()
        assert job.child is not None
        result = self.executor.expand(self.world, self._ref(job.node, job.scratch), job.child, dest, self.cancel)
        if result.ok and not self.cancel.is_set():
            # The git commit runs here, not on the main thread, which would otherwise wait for it on every child.
            # A kill before the database records the child leaves only an unreferenced ref, replaced on the rerun.
            message = commit_message(job.child, job.node, result.artefacts)
            job.sha = self.archive.commit_source(job.child, dest, self._commits[job.node], message)
        return result

    def _evaluate(self, job: Job) -> Evaluation:
        job.scratch = mkdtemp(f"hgm-eval-{job.node}-")
        assert job.task is not None
        return self.executor.evaluate(self.world, self._ref(job.node, job.scratch), job.task, self.cancel)

    # -- results (main thread) ----------------------------------------------------------------------------------

    def _apply(self, job: Job, future: Future[Any]) -> None:
        try:
            exc = future.exception()
            result = future.result() if exc is None else None
            if job.kind == "expand":
                self._apply_expansion(job, result, exc)
            else:
                self._apply_evaluation(job, result, exc)
        finally:
            _cleanup(job)
        # Only time budgets across resumes read it: once a second is enough, and saves a disk sync per job.
        if time.monotonic() - self._elapsed_saved >= 1.0:
            self.archive.set_meta("elapsed", str(self.elapsed()))
            self._elapsed_saved = time.monotonic()

    def _apply_evaluation(self, job: Job, result: Evaluation | None, exc: BaseException | None) -> None:
        assert job.task is not None
        if result is not None and result.error == CANCELLED and self.cancel.is_set():
            self.archive.interrupt_work(job.k, CANCELLED)
            self.tree.cancel_eval(job.node, job.task)
            return
        if exc is not None or (result is not None and result.error):
            error = _describe(exc) if exc is not None else result.error if result is not None else ""
            cost = result.cost if result is not None else 0.0
            self.archive.finish_evaluation(job.k, False, cost, error)
            self._task_errors[(job.node, job.task)] += 1
            if self._task_errors[(job.node, job.task)] < TASK_ATTEMPTS:
                self.tree.cancel_eval(job.node, job.task)
            self.spent += cost
            self.archive.event("error", k=job.k, node=job.node, task=job.task, error=error)
            self._count_error(error)
            return
        assert result is not None
        if result.artefacts:
            self.archive.save_artefacts(job.node, {f"evals/{job.task}/{n}": t for n, t in result.artefacts.items()})
        self.archive.finish_evaluation(job.k, result.success, result.cost)
        self.tree.finish_eval(job.node, job.task, result.success)
        self.spent += result.cost
        self.db_costs["evaluate"].append(result.cost)
        self._consecutive_errors = 0

    def _apply_expansion(self, job: Job, result: Expansion | None, exc: BaseException | None) -> None:
        assert job.child is not None
        if result is not None and not result.ok and result.reason == CANCELLED and self.cancel.is_set():
            self.archive.interrupt_work(job.k, CANCELLED)
            self.tree.finish_expand(job.node)
            self._children_started.discard(job.child)
            return
        if exc is not None:
            result = Expansion(ok=False, reason=f"internal error: {_describe(exc)}")
            self._count_error(result.reason)
        assert result is not None
        sha = job.sha if result.ok else None
        if result.ok and sha is None:
            assert job.scratch is not None
            parent_sha = self._commits[job.node]
            sha = self.archive.commit_source(
                job.child, job.scratch / "child", parent_sha, commit_message(job.child, job.node, result.artefacts)
            )
        if result.artefacts:
            self.archive.save_artefacts(job.child, result.artefacts)
        self.archive.finish_expansion(
            job.k, job.child, job.node, sha, result.ok, result.reason, result.cost, result.true_quality
        )
        self.spent += result.cost
        self.db_costs["expand"].append(result.cost)
        self._commits[job.child] = sha
        row = self.archive.node(job.child)
        assert row is not None
        self._buffered[job.child] = row
        self._flush_nodes()
        # When nothing is left to evaluate, the policy can only expand; failures must not loop forever.
        self._failed_expansions = 0 if result.ok else self._failed_expansions + 1
        if self._failed_expansions >= self.config.max_failed_expansions and not self.stopping:
            self.request_stop(
                f"{self._failed_expansions} self-modifications in a row failed; last: {result.reason}", ERRORS
            )
        if exc is None:
            self._consecutive_errors = 0

    def _count_error(self, error: str) -> None:
        self._consecutive_errors += 1
        if self._consecutive_errors >= self.config.max_consecutive_errors and not self.stopping:
            self.request_stop(f"{self._consecutive_errors} infrastructure errors in a row; last: {error}", ERRORS)

    # -- stopping -------------------------------------------------------------------------------------------------

    def request_stop(self, reason: str, kind: str = INTERRUPTED) -> None:
        """Stop scheduling; in-flight work may finish for `shutdown_grace` seconds, then it is cancelled.

        A second request cancels at once. Main thread only: it writes to the archive.
        """
        if self.stopping:
            self.cancel.set()
            return
        self.stopping = True
        self.stop_reason, self.stop_kind = reason, kind
        self._stop_requested_at = time.monotonic()
        self.archive.event("stop_requested", reason=reason)

    def _check_grace(self) -> None:
        if self._stop_requested_at is None or self.cancel.is_set():
            return
        if time.monotonic() - self._stop_requested_at >= self.config.shutdown_grace:
            self.cancel.set()

    def _given_up_waiting(self) -> bool:
        """Whether cancelled work has had CANCEL_WAIT seconds to return; what has not is left behind, interrupted."""
        if not self.cancel.is_set() or not self.running:
            return False
        if self._cancelled_at is None:
            self._cancelled_at = time.monotonic()
        if time.monotonic() - self._cancelled_at < CANCEL_WAIT:
            return False
        self.abandoned = True
        self.archive.event("abandoned", work=[job.describe() for job in self.running.values()])
        return True

    def _finish(self) -> None:
        best = self.policy.best(self.tree)
        if best is not None and self._commits.get(best):
            self.archive.set_best(str(self._commits[best]))
        self.archive.event("stop", reason=self.stop_reason, evals=self.tree.n_evals, nodes=self.tree.n_nodes, best=best)
        self._tick()

    # -- display --------------------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        best = self.policy.best(self.tree)
        failed = int(self.tree.failed.sum())
        return Snapshot(
            evals_done=self.tree.n_evals,
            eval_budget=self.config.budget.max_evals,
            nodes=self.tree.n_nodes,
            failed_nodes=failed,
            running=[job.describe() for job in self.running.values()],
            best=best,
            best_own=self.tree.own(best) if best is not None else (0, 0),
            spent=self.spent,
            max_cost=self.config.budget.max_cost,
            elapsed=self.elapsed(),
            stop_reason=self.stop_reason,
        )

    def _tick(self) -> None:
        if self.on_tick is not None:
            self.on_tick(self.snapshot())


def _cleanup(job: Job) -> None:
    if job.scratch is not None:
        shutil.rmtree(job.scratch, ignore_errors=True)
        job.scratch = None


def _describe(exc: BaseException) -> str:
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip()
