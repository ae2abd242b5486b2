import logging
import os
import re
import signal
import threading
import time
from pathlib import Path

from story_world import StoryWorld, story_config

from hgm.archive import Archive
from hgm.engine import Engine
from hgm.interfaces import Evaluation, NodeRef
from hgm.runlog import run_log


def _run(out: Path, max_evals: int, world_type: type = StoryWorld, **extra: object) -> tuple[Path, Engine]:
    config = story_config(max_evals, **extra)
    archive = Archive.create(out, config.model_dump(mode="json")) if not out.exists() else Archive(out, readonly=False)
    try:
        engine = Engine(archive, world_type(archive), config)
        with run_log(archive, poll=0.05) as path:
            engine.run()
    finally:
        archive.close()
    return path, engine


def test_run_log_tells_what_the_run_did(tmp_path: Path):
    path, _ = _run(tmp_path / "run", 24)
    assert path == tmp_path / "run" / "run.log"
    lines = path.read_text().splitlines()
    messages = [line.split(": ", 1)[1] for line in lines]
    assert messages[0].startswith("seed agent committed as node 0")
    assert messages[1].startswith("run started (pid ") and messages[1].endswith("with 0 evaluations and 1 nodes done")
    assert "node 1 (child of node 0) made ($0.0300): Raise VERSION to 1 so that the agent tries harder." in messages
    assert "node 4 (child of node 0) failed ($0.0300): the child deleted its tests" in messages
    assert "evaluating node 0 on alpha: not solved ($0.0050)" in messages
    assert "evaluating node 0 on beta: solved ($0.0050)" in messages
    assert messages[-1].startswith("run stopped: evaluation budget spent; 24 evaluations, 8 nodes, best belief node")
    results = [m for m in messages if m.startswith("evaluating") and not m.endswith("started")]
    assert len(results) == 24
    assert all(" INFO hgm.run: " in line for line in lines)


def test_run_log_takes_hgm_log_records_only_while_the_run_goes_and_resume_appends(tmp_path: Path):
    out = tmp_path / "run"
    _run(out, 12)
    logging.getLogger("hgm.gateway").warning("after the run: not in the log")
    config = story_config(20)
    archive = Archive(out, readonly=False)
    try:
        with run_log(archive, poll=0.05):
            logging.getLogger("hgm.gateway").warning("the provider said 429; retry 1 in 2.00s")
            logging.getLogger("hgm.sandboxes.registry").info("using the docker backend")
            Engine(archive, StoryWorld(archive), config).run()
    finally:
        archive.close()
    text = (out / "run.log").read_text()
    assert "WARNING hgm.gateway: the provider said 429; retry 1 in 2.00s" in text
    assert "INFO hgm.sandboxes.registry: using the docker backend" in text
    assert "not in the log" not in text
    assert text.count("run started") == 2
    assert text.count("run started (pid ") == 2 and "with 12 evaluations" in text
    assert text.count("node 1 (child of node 0) made") == 1  # nothing from before the resume is written again
    assert not logging.getLogger("hgm").handlers


class BlockingWorld(StoryWorld):
    """Evaluations wait until the run cancels them."""

    def evaluate(self, node: NodeRef, task: str, cancel: threading.Event) -> Evaluation:
        cancel.wait(120)
        return Evaluation(False, error="cancelled")


def test_run_log_records_work_interrupted_by_ctrl_c(tmp_path: Path):
    log = tmp_path / "run" / "run.log"

    def interrupt() -> None:
        # Once the log shows the evaluation in flight, as a user would see it before pressing Ctrl-C.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (log.exists() and " started" in log.read_text()):
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    _run(tmp_path / "run", 10, BlockingWorld, shutdown_grace=0)
    text = log.read_text()
    started = re.search(r"INFO hgm.run: (evaluating node 0 on \w+) started", text)
    assert started, text
    assert "WARNING hgm.run: stopping: interrupted by SIGINT" in text
    assert f"WARNING hgm.run: {started.group(1)} interrupted: cancelled" in text
    assert "run stopped: interrupted by SIGINT" in text
