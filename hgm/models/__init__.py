"""Models served through litellm from inside hgm (the scripted model used by tests and the offline demo)."""
