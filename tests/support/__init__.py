"""Builders shared by the test modules (grids, runs in memory, places and scenario folders).

Test modules import from here (``from support.grids import make_grid``), never from each other.
Nothing in this package is a test.
"""
