"""Worlds: what expanding and evaluating a node mean (`sim`: a seeded synthetic model; `coding`: real agents)."""
