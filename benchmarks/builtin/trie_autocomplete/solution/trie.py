"""A prefix tree for autocompletion."""

import heapq


class _Node:
    __slots__ = ("children", "uses", "words")

    def __init__(self):
        self.children = {}
        self.uses = 0
        self.words = 0  # distinct words in this subtree


class Autocomplete:
    def __init__(self):
        self._root = _Node()
        self._nodes = 1

    def _find(self, prefix):
        node = self._root
        for ch in prefix:
            node = node.children.get(ch)
            if node is None:
                return None
        return node

    def add(self, word, count=1):
        if not isinstance(word, str) or not word:
            raise ValueError("word must be a non-empty string")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError("count must be a positive integer")
        new = word not in self
        node = self._root
        path = [node]
        for ch in word:
            if ch not in node.children:
                node.children[ch] = _Node()
                self._nodes += 1
            node = node.children[ch]
            path.append(node)
        node.uses += count
        if new:
            for n in path:
                n.words += 1

    def remove(self, word):
        if word not in self:
            return False
        path = [self._root]
        for ch in word:
            path.append(path[-1].children[ch])
        path[-1].uses = 0
        for n in path:
            n.words -= 1
        for i in range(len(word), 0, -1):
            if path[i].words == 0:
                del path[i - 1].children[word[i - 1]]
                self._nodes -= 1
            else:
                break
        return True

    def count(self, word):
        node = self._find(word)
        return node.uses if node else 0

    def __len__(self):
        return self._root.words

    def __contains__(self, word):
        return self.count(word) > 0

    def count_prefix(self, prefix):
        node = self._find(prefix)
        return node.words if node else 0

    def complete(self, prefix, limit=10):
        node = self._find(prefix)
        if node is None or limit <= 0:
            return []
        found = []
        stack = [(node, prefix)]
        while stack:
            current, text = stack.pop()
            if current.uses:
                found.append((-current.uses, text))
            for ch, child in current.children.items():
                stack.append((child, text + ch))
        return [w for _, w in heapq.nsmallest(limit, found)]

    def node_count(self):
        return self._nodes
