"""Pictures a person would rather look at than read: sample grids, loss curves, bar charts."""
import csv
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from utils.images import to_uint8


def thumbnail(pixels, width=800):
    """A float RGB thumbnail, at most width pixels wide, of a painting's (H, W, C) samples (8- or
    16-bit, gray or colour, with or without alpha)."""
    import cv2

    from utils.images import to_float
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    width = max(1, min(width, pixels.shape[1]))
    height = max(1, round(pixels.shape[0] * width / pixels.shape[1]))
    small = cv2.resize(pixels, (width, height), interpolation=cv2.INTER_AREA)
    small = to_float(small[..., None] if small.ndim == 2 else small)
    return np.repeat(small[..., :1], 3, axis=2) if small.shape[2] < 3 else small[..., :3]


def restoration_figure(path, before, mask, after, method):
    """before | the mask over it in magenta | after, from before's thumbnail, the full mask
    (1 = filled) and the restored painting's samples."""
    marked = thumbnail(mask * np.uint8(255), before.shape[1])[..., :1] > 0.5
    shown = np.where(marked, 0.45 * before + 0.55 * np.array([1.0, 0.0, 1.0]), before)
    image_grid([[before, shown, thumbnail(after, before.shape[1])]],
               ["before", f"mask, magenta ({np.count_nonzero(mask) / mask.size:.1%} of the "
                f"painting)", f"after ({method})"], path, max_width=2400)


def image_grid(rows, titles, path, max_width=1600):
    """Save a grid: one row per example, one column per titled panel (each float RGB [0, 1]; the
    panels of a row share a size, rows may differ), shrunk so the widest row fits max_width
    (None: every pixel shown at its own size)."""
    panels = [[to_uint8(p) for p in row] for row in rows]
    widest = max(row[0].shape[1] for row in panels) * len(titles)
    scale = 1.0 if max_width is None else min(1.0, max_width / widest)
    sizes = [(max(1, int(row[0].shape[0] * scale)), max(1, int(row[0].shape[1] * scale)))
             for row in panels]
    header, gap = 22, 4
    grid = Image.new("RGB", (max(len(titles) * (w + gap) - gap for _, w in sizes),
                             header + sum(h + gap for h, _ in sizes) - gap), "white")
    draw = ImageDraw.Draw(grid)
    font = ImageFont.load_default(size=15)
    for col, title in enumerate(titles):
        draw.text((col * (sizes[0][1] + gap) + 4, 3), title, fill="black", font=font)
    top = header
    for row, (height, width) in zip(panels, sizes):
        for col, panel in enumerate(row):
            tile = Image.fromarray(panel).resize((width, height), Image.BILINEAR)
            grid.paste(tile, (col * (width + gap), top))
        top += height + gap
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    grid.save(path)


# Panels of the loss plot: (title, columns, log scale). A panel is drawn when its columns are in
# the log; validation columns (val_<name>) are drawn dashed beside their training column.
LOSS_PANELS = (
    ("reconstruction (MSE)", ("loss",), True),
    ("adversarial (cross-entropy)", ("d_loss", "g_adv"), False),
    ("feature matching (L1)", ("g_fm",), True),
    ("discriminator", ("d_acc", "d_perfect"), False),
)


def loss_plot(log_csv, path, title="training"):
    """Plot a Keras CSV log: the losses, and for a GAN its adversarial losses and its
    discriminator's accuracy, one panel each (training solid, validation dashed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(log_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    epochs = [int(r["epoch"]) + 1 for r in rows]
    panels = [(name, [c for c in columns if c in rows[0]], log)
              for name, columns, log in LOSS_PANELS if any(c in rows[0] for c in columns)]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (name, columns, log) in zip(axes[0], panels):
        for index, column in enumerate(columns):
            colour = f"C{index}"
            ax.plot(epochs, [float(r[column]) for r in rows], color=colour, label=column)
            if f"val_{column}" in rows[0]:
                ax.plot(epochs, [float(r[f"val_{column}"]) for r in rows], "--", color=colour,
                        label=f"val_{column}")
        ax.set_xlabel("epoch")
        ax.set_yscale("log" if log else "linear")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def grouped_bars(values, groups, series, path, ylabel, title):
    """Bar chart: values[series][group], one cluster of bars per group."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.5 + 1.2 * len(groups) * max(1, len(series)) / 3, 4))
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for index, name in enumerate(series):
        bars = ax.bar(x + (index - (len(series) - 1) / 2) * width,
                      [values[name][g] for g in groups], width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=6)
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
