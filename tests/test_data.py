"""Choosing, splitting, augmenting and damaging the training paintings."""
import numpy as np
import pytest

from conftest import write_paintings
from training import data
from utils.errors import UserError


def test_train_and_val_folders_are_used_when_present(tmp_path):
    write_paintings(tmp_path / "train", 5, seed=1)
    write_paintings(tmp_path / "val", 2, seed=2)
    (train, _), (val, _), where = data.load_paintings(tmp_path, (64, 96))
    assert train.shape == (5, 64, 96, 3) and val.shape == (2, 64, 96, 3)
    assert "train" in where and "val" in where


def test_a_flat_folder_is_split_by_seed(painting_dir):
    (train, train_names), (val, val_names), _ = data.load_paintings(painting_dir, (32, 64), seed=3)
    assert len(train) + len(val) == 8 and len(val) >= 1
    assert not set(train_names) & set(val_names)
    again = data.load_paintings(painting_dir, (32, 64), seed=3)
    assert again[1][1] == val_names
    assert data.load_paintings(painting_dir, (32, 64), seed=4)[1][1] != val_names


def test_without_data_the_scikit_image_samples_are_used_and_named(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "REPO_DATA", tmp_path / "empty")
    (train, _), (val, _), where = data.load_paintings(None, (32, 64))
    assert "scikit-image" in where
    assert len(train) + len(val) >= 10 and train.dtype == np.float32


def test_missing_data_folder_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        data.load_paintings(tmp_path / "nowhere", (32, 64))


def _first_batch(images, **kwargs):
    (damaged, mask), original, weight = next(iter(data.training_dataset(images, 4, **kwargs)))
    return damaged.numpy(), mask.numpy(), original.numpy(), weight.numpy()


def test_training_batches_are_damaged_copies_of_the_paintings(painting_dir):
    (images, _), _, _ = data.load_paintings(painting_dir, (64, 96))
    damaged, mask, original, weight = _first_batch(images, mask_kind="blobs", augment=False,
                                                   hole_weight=4.0)
    assert damaged.shape == original.shape == (4, 64, 96, 3) and mask.shape == (4, 64, 96, 1)
    hole = mask[..., 0] > 0.5
    assert np.all(damaged[hole] == 1.0)
    assert np.allclose(damaged[~hole], original[~hole])
    assert np.all((0.10 <= hole.mean(axis=(1, 2))) & (hole.mean(axis=(1, 2)) <= 0.15))
    assert np.all(weight[hole] == 4.0) and np.all(weight[~hole] == 1.0)
    # without augmentation each target is one of the paintings, untouched
    assert all(min(np.abs(o - i).max() for i in images) < 1e-6 for o in original)


def test_augmentation_changes_the_paintings_and_is_seeded(painting_dir):
    (images, _), _, _ = data.load_paintings(painting_dir, (64, 96))
    _, _, original, _ = _first_batch(images, seed=7)
    assert all(min(np.abs(o - i).max() for i in images) > 1e-3 for o in original)
    assert 0.0 <= original.min() and original.max() <= 1.0
    _, _, again, _ = _first_batch(images, seed=7)
    assert np.allclose(original, again)


def test_validation_masks_are_fixed(painting_dir):
    (_, _), (val, _), _ = data.load_paintings(painting_dir, (64, 96))
    (_, mask_a), _, _ = data.validation_data(val, "mixed", seed=0)
    (_, mask_b), _, _ = data.validation_data(val, "mixed", seed=0)
    assert np.array_equal(mask_a, mask_b)


def test_shared_paintings_load_at_the_real_size(shared_data):
    (train, _), (val, _), _ = data.load_paintings(shared_data / "paintings")
    assert train.shape[1:] == val.shape[1:] == (256, 384, 3)
    assert len(val) == 24 and len(train) >= 150


def test_windows_are_cut_as_the_full_size_fill_cuts_them(tmp_path):
    # the model's aspect, never enlarged where the painting allows, a portrait one transposed
    from training import windows
    rows = np.linspace(0, 1, 900, dtype=np.float32)[:, None, None]
    portrait = np.broadcast_to(rows, (900, 500, 3)).copy()  # dark at the top, light below
    cut = windows.windows(portrait, 3, size=(64, 96), scales=(1.0, 2.5))
    assert len(cut) == 3 and all(w.shape == (64, 96, 3) and w.dtype == np.float32 for w in cut)
    for window in cut:  # the painting's top-to-bottom runs left to right in each window
        assert window[:, -1].mean() > window[:, 0].mean() and np.ptp(window[:, 0]) < 1e-3
    small = windows.windows(portrait[:40, :30], 1, size=(64, 96))[0]  # smaller than the model
    assert small.shape == (64, 96, 3) and 0 <= small.min() and small.max() <= 1

    write_paintings(tmp_path / "paintings", 3, seed=4)
    for out in ("a", "b"):
        windows.main([str(tmp_path / "paintings"), str(tmp_path / out), "--count", "2"])
    written = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(written) == 6 and all(name.endswith((".png")) for name in written)
    assert all((tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes()
               for n in written)  # the same windows on every run
    with pytest.raises(SystemExit):
        windows.main([str(tmp_path / "nothing"), str(tmp_path / "c")])
