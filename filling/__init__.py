"""Filling losses: every fill method in one table (registry.py), the classical fills of one image
(classical.py) and the fill of a painting at its own resolution in bounded memory (fill.py)."""
