"""Every way of finding damage, once: restore.py's and app.py's --detect read this table
(detection/detect.py carries each out)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Detection:
    name: str
    summary: str          # one line for the tools' --help
    network: bool         # the detector network's probability map (else the white rule)
    colour: bool = False  # then the colour model, seeded on the losses the network is surest of


DETECTIONS = {d.name: d for d in (
    Detection("learned", "the damage detector network (the default)", True),
    Detection("colour", "the network, then every pixel like the losses it is surest of (finds "
                        "more losses, and marks more on clean paintings)", True, colour=True),
    Detection("white", "pure-white marks only (the synthetic strokes of benchmarks)", False),
)}
METHODS = tuple(DETECTIONS)


def describe():
    """'name: summary' for each method, for a --help text."""
    return "; ".join(f"{d.name}: {d.summary}" for d in DETECTIONS.values())
