"""Read-only views of a run archive, shared by the terminal commands and the HTML report."""
