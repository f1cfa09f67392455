"""`bepro fix`: rewrites for review findings, each proven by validation before it is shown.

engine.py      orchestration: review a file, try a rewrite per finding, validate, keep or reject
codemods/      deterministic libcst codemods, one module per rule family; which code gets which
               codemod (and whether it is safe) is REWRITES in review/registry.py
cst_tools.py   libcst helpers the codemods share (calls at a position, imports, constants)
blocks.py      search/replace blocks: the seam for LLM rewrites (parse and apply)
model.py       SearchReplace, RewriteProposer (the LLM seam), Candidate, FixOutcome
validate.py    compile, ruff, re-review and the user's test command
store.py       atomic writes inside the given paths, and the undo store
"""
