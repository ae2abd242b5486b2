"""Tunable constants of the improver: how much evidence it shows, the prompts, the limits of the edit."""

from __future__ import annotations

EVIDENCE_TASKS = 1
"""Evaluated tasks the diagnosis sees, failures first."""

PROMPT_CHARS = 60_000
"""Characters of the diagnosis prompt when the evidence does not say how many the host's model takes."""

EDIT_STEPS = 40
"""Model calls the agent may make while it edits the copy of itself."""

EDIT_TOKENS = 1_000_000
"""Tokens the edit may use in total."""

DIAGNOSIS_PROMPT = """\
You are improving a coding agent and the procedure that improves it. Below are their source code (the agent is
the package agent_seed/, its improver is agent_seed/improve/), benchmark tasks the agent was evaluated on, the
records of its attempts and the results of the hidden tests. Find out why the agent (not the task) failed, and
propose one concrete, general change to the code that would make it solve tasks like these more often: to the
agent itself, or to the improver, if a better improvement procedure is what would help most over many steps.

Answer with one JSON object and nothing else:
{{"failure": "what went wrong in the attempts", "root_cause": "which property of the code caused it",
  "proposal": "the change to make, precise enough to implement",
  "files": ["agent_seed/... files to change"]}}

<agent_source>
{source}
</agent_source>

{tasks}"""

TASK_EVIDENCE = """\
<task id="{task}" solved="{solved}">
{statement}
</task>

<attempt>
{trajectory}
</attempt>

<hidden_test_results>
{tests}
</hidden_test_results>
"""

EDIT_TASK = """\
Your working directory holds the complete source code of a coding agent: the Python package `agent_seed/`,
with its improver `agent_seed/improve/`. It is your own code. Improve it by implementing the change below.

Diagnosis of a failed run: {failure}
Root cause: {root_cause}
Change to implement: {proposal}

Rules: keep the agent's interface (`python3 -m agent_seed --task FILE --workdir DIR --trajectory FILE`), the
improver's interface (`python3 -m agent_seed.improve --evidence DIR --out DIR`) and their use of the HGM_GATEWAY,
HGM_TOKEN_FILE and HGM_MODEL environment variables; use only the Python standard library; keep the test suites
passing (`{tests}`) and add a test for the change where it makes sense."""
