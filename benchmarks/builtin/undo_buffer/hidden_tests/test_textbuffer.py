import random
import unittest

from textbuffer import Buffer


class BufferTest(unittest.TestCase):
    def test_insert_delete_undo_redo(self):
        b = Buffer("hello")
        b.insert(5, " world")
        self.assertEqual(b.delete(0, 1), "h")
        self.assertEqual(b.text, "ello world")
        self.assertTrue(b.undo())
        self.assertEqual(b.text, "hello world")
        self.assertTrue(b.undo())
        self.assertEqual(b.text, "hello")
        self.assertFalse(b.undo())
        self.assertTrue(b.redo())
        self.assertEqual(b.text, "hello world")
        b.insert(0, ">")
        self.assertFalse(b.can_redo())
        self.assertFalse(b.redo())
        self.assertEqual(b.text, ">hello world")

    def test_bounds(self):
        b = Buffer("abc")
        with self.assertRaises(IndexError):
            b.insert(4, "x")
        with self.assertRaises(IndexError):
            b.insert(-1, "x")
        with self.assertRaises(IndexError):
            b.delete(4, 1)
        with self.assertRaises(ValueError):
            b.delete(0, -1)
        self.assertEqual(b.delete(1, 99), "bc")
        self.assertEqual(b.delete(1, 5), "")
        b.insert(0, "")
        self.assertEqual(b.history_size(), 1)

    def test_typing_merges(self):
        b = Buffer()
        for i, ch in enumerate("hello"):
            b.insert(i, ch, merge=True)
        b.insert(5, "!", merge=False)
        b.insert(6, "?", merge=True)
        self.assertEqual(b.history_size(), 2)
        b.undo()
        self.assertEqual(b.text, "hello")
        b.undo()
        self.assertEqual(b.text, "")
        b.redo()
        b.insert(5, "x", merge=True)
        self.assertEqual(b.history_size(), 2)
        b.insert(0, "y", merge=True)
        self.assertEqual(b.history_size(), 3)

    def test_delete_merges(self):
        b = Buffer("abcdefgh")
        b.delete(7, 1, merge=True)
        b.delete(6, 1, merge=True)
        b.delete(5, 1, merge=True)
        self.assertEqual((b.text, b.history_size()), ("abcde", 1))
        b.delete(0, 1, merge=True)
        b.delete(0, 1, merge=True)
        self.assertEqual((b.text, b.history_size()), ("cde", 2))
        b.insert(0, "Z", merge=True)
        b.delete(1, 1, merge=True)
        self.assertEqual(b.history_size(), 4)
        b.undo()
        b.undo()
        b.undo()
        self.assertEqual(b.text, "abcde")
        b.undo()
        self.assertEqual(b.text, "abcdefgh")

    def test_groups_and_replace_all(self):
        b = Buffer("one two one")
        with b.group():
            b.insert(0, "[")
            with b.group():
                b.insert(len(b.text), "]")
            b.delete(1, 3)
        self.assertEqual(b.text, "[ two one]")
        self.assertEqual(b.history_size(), 1)
        with b.group():
            pass
        self.assertEqual(b.history_size(), 1)
        self.assertEqual(b.replace_all("o", "oo"), 2)
        self.assertEqual(b.text, "[ twoo oone]")
        self.assertEqual(b.replace_all("zzz", "y"), 0)
        self.assertEqual(b.history_size(), 2)
        b.undo()
        self.assertEqual(b.text, "[ two one]")
        b.undo()
        self.assertEqual(b.text, "one two one")
        b.redo()
        b.redo()
        self.assertEqual(b.text, "[ twoo oone]")
        self.assertEqual(Buffer("aaaa").replace_all("aa", "a"), 2)
        with self.assertRaises(ValueError):
            b.replace_all("", "x")

    def test_history_limit(self):
        b = Buffer(max_history=3)
        for i in range(5):
            b.insert(i, str(i))
        self.assertEqual(b.history_size(), 3)
        while b.undo():
            pass
        self.assertEqual(b.text, "01")

    def test_random_against_snapshots(self):
        rng = random.Random(13)
        b = Buffer("seed text")
        states, future = ["seed text"], []
        for _ in range(2000):
            action = rng.random()
            if action < 0.35:
                pos = rng.randint(0, len(b.text))
                s = rng.choice(["a", "bc", "", "xyz"])
                before = b.text
                b.insert(pos, s)
                if s:
                    states.append(b.text)
                    future.clear()
                self.assertEqual(b.text, before[:pos] + s + before[pos:])
            elif action < 0.6:
                pos = rng.randint(0, len(b.text))
                n = rng.randint(0, 3)
                before = b.text
                removed = b.delete(pos, n)
                self.assertEqual(removed, before[pos : pos + n])
                if removed:
                    states.append(b.text)
                    future.clear()
            elif action < 0.8:
                self.assertEqual(b.undo(), len(states) > 1)
                if len(states) > 1:
                    future.append(states.pop())
                self.assertEqual(b.text, states[-1])
            else:
                self.assertEqual(b.redo(), bool(future))
                if future:
                    states.append(future.pop())
                self.assertEqual(b.text, states[-1])

    def test_large_history_stores_changes(self):
        rng = random.Random(1)
        b = Buffer("x" * 100_000, max_history=100_000)
        for _ in range(12_000):
            pos = rng.randint(0, len(b.text))
            if rng.random() < 0.5:
                b.insert(pos, "ab")
            else:
                b.delete(pos, 2)
        for _ in range(12_000):
            b.undo()
        self.assertEqual(b.text, "x" * 100_000)


if __name__ == "__main__":
    unittest.main()
