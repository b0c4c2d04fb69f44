"""`make bench`: figures measured as ratios against a baseline taken in the same run.

Not part of the installed package; run from the checkout with `python -m bench.run`.
"""
