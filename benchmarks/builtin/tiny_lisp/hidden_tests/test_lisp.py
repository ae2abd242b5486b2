import unittest

import lisp
from lisp import LispError, run


class LispTest(unittest.TestCase):
    def setUp(self):
        lisp.OUTPUT.clear()

    def test_arithmetic(self):
        self.assertEqual(run("(+ 1 2 (* 3 4))"), 15)
        self.assertEqual(run("(- 10 1 2)"), 7)
        self.assertEqual(run("(- 5)"), -5)
        self.assertEqual(run("(+)"), 0)
        self.assertEqual(run("(*)"), 1)
        self.assertEqual(run("(quotient -7 2)"), -3)
        self.assertEqual(run("(remainder -7 2)"), -1)
        self.assertEqual(run("(quotient 7 -2)"), -3)
        self.assertEqual(run("(< 1 2 3)"), True)
        self.assertEqual(run("(< 1 3 2)"), False)
        self.assertEqual(run("(= 2 2 2)"), True)
        self.assertEqual(run(""), None)
        self.assertEqual(run("; only a comment\n"), None)

    def test_define_and_closures(self):
        program = """
        (define (make-counter)
          (let ((n 0))
            (lambda () (set! n (+ n 1)) n)))
        (define c1 (make-counter))
        (define c2 (make-counter))
        (c1) (c1) (c2)
        (list (c1) (c2))  ; three and two
        """
        self.assertEqual(run(program), [3, 2])
        self.assertEqual(run("(define x 1) (define (f) x) (let ((x 2)) (f))"), 1)
        self.assertEqual(run("(define x 5) (let ((x 1) (y x)) (+ x y))"), 6)

    def test_recursion_and_lists(self):
        program = """
        (define (fact n) (if (<= n 1) 1 (* n (fact (- n 1)))))
        (define (map f xs) (if (null? xs) (quote ()) (cons (f (car xs)) (map f (cdr xs)))))
        (map fact (list 1 2 3 4 5 20))
        """
        self.assertEqual(run(program), [1, 2, 6, 24, 120, 2432902008176640000])
        self.assertEqual(run("(length (cons 1 (list 2 3)))"), 3)
        self.assertEqual(run("(quote (a (b 1) #t))"), ["a", ["b", 1], True])
        self.assertEqual(run("(apply + (list 1 2 3))"), 6)
        self.assertEqual(run("(cdr (list 1))"), [])

    def test_boolean_forms(self):
        self.assertEqual(run("(if 0 1 2)"), 1)
        self.assertEqual(run("(if (quote ()) 1 2)"), 1)
        self.assertIsNone(run("(if #f 1)"))
        self.assertEqual(run("(and 1 2 3)"), 3)
        self.assertEqual(run("(and 1 #f (undefined-fn))"), False)
        self.assertEqual(run("(or #f 7 (undefined-fn))"), 7)
        self.assertEqual(run("(and)"), True)
        self.assertEqual(run("(or)"), False)
        self.assertEqual(run("(not #f)"), True)
        self.assertEqual(run("(not 0)"), False)
        sign = "(define (sign n) (cond ((< n 0) -1) ((= n 0) 0) (else 1)))"
        self.assertEqual(run(sign + " (list (sign -5) (sign 0) (sign 9))"), [-1, 0, 1])
        self.assertIsNone(run("(cond (#f 1))"))

    def test_display(self):
        run("(display (list 1 #t (list 2 #f) (quote sym))) (display 42) (begin (display (quote done)))")
        self.assertEqual(lisp.OUTPUT, ["(1 #t (2 #f) sym)", "42", "done"])

    def test_tail_calls(self):
        program = """
        (define (loop i acc) (if (= i 0) acc (loop (- i 1) (+ acc 1))))
        (loop 100000 0)
        """
        self.assertEqual(run(program), 100000)
        program = """
        (define (even? n) (if (= n 0) #t (odd? (- n 1))))
        (define (odd? n) (if (= n 0) #f (even? (- n 1))))
        (define (count n) (cond ((= n 0) (quote done)) (else (let ((m (- n 1))) (begin (and #t (count m)))))))
        (list (even? 50001) (count 50000))
        """
        self.assertEqual(run(program), [False, "done"])

    def test_errors(self):
        for program in ("(undefined)", "(1 2)", "((lambda (x) x))", "(+ 1", "(+ 1))", ")", "(car (list))",
                        "(quotient 1 0)", "(set! nope 1)", "(remainder 5 0)", "(+ 1 #t)", "((lambda (x) x) 1 2)"):
            with self.assertRaises(LispError, msg=program):
                run(program)


if __name__ == "__main__":
    unittest.main()
