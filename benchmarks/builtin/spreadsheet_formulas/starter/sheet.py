"""A spreadsheet with formulas."""


class Sheet:
    def set(self, cell, content):
        raise NotImplementedError

    def get(self, cell):
        raise NotImplementedError

    def raw(self, cell):
        raise NotImplementedError
