"""A painting's scan and what is written from it: lossless reading and writing at the scan's own
depth, profile and metadata (scan.py), safe writes and records (outputs.py), and the four files
of a restoration as a set (saving.py)."""
