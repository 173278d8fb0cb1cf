"""What every LabelHub app shares, at the bottom of the import order: database helpers, and
child processes that die with their parent (``processes``).

It imports nothing from ``labelhub``; every app may import it (``make lint`` checks both).
"""
