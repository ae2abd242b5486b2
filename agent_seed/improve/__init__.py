"""The agent's own improver: reads evidence of how the agent did and rewrites a copy of the agent, itself included.

hgm calls it, in meta mode only, as `python3 -m agent_seed.improve --evidence DIR --out DIR`; that command line is
the one thing a child must keep. Everything else here (which evidence to look at, the diagnosis prompt, how the
edit is made) is the agent's to change.
"""
