"""Finding paint loss: the methods (registry.py) and the detector that carries them out, with
clicks on losses (detect.py)."""
