"""Pieces of the self-modification step that need no sandbox: the prompt's source listing and per-role limits."""

from __future__ import annotations

from pathlib import Path

from hgm.coding.selfmod import source_listing
from hgm.coding.world import gateway_config
from hgm.config import load_config


def test_the_source_listing_keeps_whole_files_puts_tests_last_and_says_what_it_left_out(tmp_path: Path) -> None:
    package = tmp_path / "agent_seed"
    (package / "tests").mkdir(parents=True)
    (package / "agent.py").write_text("A = 1\n" * 10)
    (package / "big.py").write_text("B = 2\n" * 100)
    (package / "tests" / "test_agent.py").write_text("T = 3\n")
    listing = source_listing(tmp_path, 200)
    assert len(listing) < 400
    assert listing.index("--- agent_seed/agent.py") < listing.index("--- agent_seed/tests/test_agent.py")
    assert "B = 2" not in listing and "not shown, for room: agent_seed/big.py" in listing
    assert "A = 1\n" * 10 in listing


def test_per_role_limits_reach_the_gateway_models() -> None:
    config = load_config(overrides=["coding.limits.agent.max_tokens=512", "coding.limits.diagnosis.timeout=900"])
    models = gateway_config(config.coding).models
    assert (models["agent"].max_tokens, models["agent"].timeout) == (512, None)
    assert (models["diagnosis"].max_tokens, models["diagnosis"].timeout) == (None, 900)
    assert models["selfmod"].max_tokens is None
