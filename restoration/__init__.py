"""One restoration pipeline for every front end (restore.py, pixel_diff.py, the workbench)."""
