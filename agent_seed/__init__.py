"""The seed agent: a small tool-calling coding agent that reaches its model only through the LLM gateway."""
