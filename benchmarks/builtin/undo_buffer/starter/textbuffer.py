"""An editable text buffer with undo and redo."""


class Buffer:
    def __init__(self, text="", max_history=1000):
        raise NotImplementedError
