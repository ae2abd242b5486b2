"""A prefix tree for autocompletion."""


class Autocomplete:
    def __init__(self):
        raise NotImplementedError
