"""Analysis: prove what a policy guarantees, or find a loan on which it fails.

`encode.py` turns a checked policy into SMT formulas (z3) with the engine's
exact semantics; `solve.py` asks the solver and never claims more than it
was told; `witness.py` turns a model into a facts object and confirms it on
the engine; `findings.py` computes `check`'s findings; `diff.py` compares
two policies.
"""
