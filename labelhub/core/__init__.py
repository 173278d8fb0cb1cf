"""What every LabelHub app shares, at the bottom of the import order: database helpers.

It imports nothing from ``labelhub``; every app may import it (``make lint`` checks both).
"""
