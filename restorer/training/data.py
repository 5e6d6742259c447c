"""Training samples: photos from any folder, cropped, flipped, rescaled, sometimes made gray or sepia, with a mask.

Every sample's randomness comes from (seed, step, slot), not from a worker's global state: a run
resumed at step k sees exactly the batches a straight run would, with any number of workers and
on any number of DDP ranks (the sampler hands each rank its own slots).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from restorer.errors import RestorerError
from restorer.training.masks import MaskGenerator
from restorer.training.photos import read_photo_rgb8

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}

# Sepia as the classic tone matrix (rows give R, G, B out of R, G, B in).
_SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32)


def list_photos(folder: Path) -> list[Path]:
    """All photos under ``folder`` (recursively), sorted so that index i means the same file on every run."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RestorerError(f"{folder}: training photo folder does not exist")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
    if not files:
        raise RestorerError(f"{folder}: no photos ({', '.join(sorted(PHOTO_SUFFIXES))}) found")
    return files


def read_rgb(path: Path, min_side: int) -> np.ndarray:
    """Decode to uint8 RGB, upscaling only photos whose short side is below ``min_side``."""
    img = read_photo_rgb8(path)
    if min(img.shape[:2]) < min_side:
        scale = min_side / min(img.shape[:2])
        img = cv2.resize(img, (max(min_side, round(img.shape[1] * scale)), max(min_side, round(img.shape[0] * scale))),
                         interpolation=cv2.INTER_CUBIC)
    return img


def augment(img: np.ndarray, crop: int, rng: np.random.Generator, *, scale_range: tuple[float, float],
            p_gray: float, p_sepia: float) -> np.ndarray:
    """Scale jitter, random crop, flip and tone (colour / gray / sepia): uint8 RGB in, float32 crop x crop x 3 out."""
    h, w = img.shape[:2]
    # Scale so the crop covers between scale_range[0] and scale_range[1] of the short side,
    # never upscaling above the original (upscaled photos teach blur).
    frac = rng.uniform(*scale_range)
    target_short = max(crop, min(min(h, w), int(round(crop / frac))))
    s = target_short / min(h, w)
    if abs(s - 1.0) > 1e-3:
        img = cv2.resize(img, (max(crop, round(w * s)), max(crop, round(h * s))),
                         interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    h, w = img.shape[:2]
    y0 = int(rng.integers(0, h - crop + 1))
    x0 = int(rng.integers(0, w - crop + 1))
    out = img[y0:y0 + crop, x0:x0 + crop].astype(np.float32) / 255.0
    if rng.random() < 0.5:
        out = out[:, ::-1]
    u = rng.random()
    if u < p_gray:
        gray = out @ np.array([0.299, 0.587, 0.114], np.float32)
        out = np.repeat(gray[..., None], 3, axis=2)
    elif u < p_gray + p_sepia:
        # Sepia with a random strength, like prints toned to different degrees.
        strength = rng.uniform(0.5, 1.0)
        out = (1 - strength) * out + strength * np.clip(out @ _SEPIA.T, 0, 1)
    return np.ascontiguousarray(out, dtype=np.float32)


class PhotoCrops(Dataset):
    """The photos of a folder, keyed by (step, slot, photo index); what a sample makes of its photo is the subclass's."""

    def __init__(self, folder: Path, crop: int, seed: int = 0) -> None:
        self.files = list_photos(folder)
        self.crop = int(crop)
        self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.files)

    def photo(self, key: tuple[int, int, int]) -> tuple[np.random.Generator, np.ndarray]:
        """The sample's own random stream and its photo (uint8 RGB, short side at least ``crop``)."""
        step, slot, index = key
        rng = np.random.default_rng([self.seed, step, slot])
        try:
            return rng, read_rgb(self.files[index], self.crop)
        except (OSError, RestorerError):
            # One unreadable file must not stop a long run: use a neighbour instead.
            return rng, read_rgb(self.files[(index + 1) % len(self.files)], self.crop)


class InpaintingDataset(PhotoCrops):
    """Indexed by (step, slot, photo index): returns {'image': 3 x S x S float, 'mask': 1 x S x S float (1 = hole)}."""

    def __init__(self, folder: Path, crop: int, masks: MaskGenerator, seed: int = 0, *,
                 scale_range: tuple[float, float] = (0.35, 1.0), p_gray: float = 0.2, p_sepia: float = 0.1,
                 edge_sigma: float | None = None) -> None:
        super().__init__(folder, crop, seed)
        self.masks = masks
        self.scale_range = scale_range
        self.p_gray = p_gray
        self.p_sepia = p_sepia
        self.edge_sigma = edge_sigma  # EdgeConnect: also give Canny edges (whole image and known pixels only)

    def __getitem__(self, key: tuple[int, int, int]) -> dict[str, torch.Tensor]:
        rng, img = self.photo(key)
        image = augment(img, self.crop, rng, scale_range=self.scale_range, p_gray=self.p_gray, p_sepia=self.p_sepia)
        mask = self.masks((self.crop, self.crop), rng)
        sample = {
            "image": torch.from_numpy(image.transpose(2, 0, 1).copy()),
            "mask": torch.from_numpy(mask[None].copy()),
        }
        if self.edge_sigma is not None:
            from restorer.models.edgeconnect import GRAY_WEIGHTS, canny_edges

            gray = image @ np.array(GRAY_WEIGHTS, np.float32)
            sample["edges"] = torch.from_numpy(canny_edges(gray, None, self.edge_sigma)[None].copy())
            sample["known_edges"] = torch.from_numpy(canny_edges(gray, mask > 0.5, self.edge_sigma)[None].copy())
        return sample


class DamageDataset(PhotoCrops):
    """The damage detector's samples, keyed like InpaintingDataset: {'gray': 1 x S x S float in [0, 1],
    'damage': kinds x S x S (1 = damage of that kind)}.

    A crop (near the photo's own scale: thin damage is pixels wide at any scale) becomes an old print
    and is damaged by the same renderer the evaluation uses (render.damaged_print: tone, fading,
    softness, then grain and JPEG); ``clean_share`` of the crops stay undamaged, so the network
    learns what texture, edges and grain look like without damage.
    """

    def __init__(self, folder: Path, crop: int, seed: int = 0, *, clean_share: float = 0.25,
                 scale_range: tuple[float, float] = (0.2, 0.5)) -> None:
        from restorer.detection.render import DamageCounts

        super().__init__(folder, crop, seed)
        self.clean_share, self.scale_range = clean_share, scale_range
        # Denser than on whole photos, so a small crop usually holds a line and a few specks.
        self.counts = DamageCounts(scratches=1.5, dust=10.0, hairs=0.8, cracks=0.6, per_pixels=self.crop ** 2)

    def __getitem__(self, key: tuple[int, int, int]) -> dict[str, torch.Tensor]:
        from restorer.detection.damage import KINDS
        from restorer.detection.render import damaged_print
        from restorer.detection.tiles import gray_tile

        rng, img = self.photo(key)
        crop = augment(img, self.crop, rng, scale_range=self.scale_range, p_gray=0.0, p_sepia=0.0)
        pixels = (crop * 255 + 0.5).astype(np.uint8)
        pair = damaged_print(pixels, rng, None if rng.random() < self.clean_share else self.counts)
        gray = gray_tile(pair.pixels, 0, 0, self.crop, self.crop)
        damage = np.stack([pair.truth[k] for k in KINDS]).astype(np.float32)
        return {"gray": torch.from_numpy(gray[None].copy()), "damage": torch.from_numpy(damage)}


class StepSampler(Sampler):
    """Yields batches of (step, slot, photo index) from ``start_step`` on, for ever.

    Photo indices walk through a seeded permutation per epoch; rank r of ``world`` takes slots
    r, r + world, ... of each global batch (the role DistributedSampler plays, but keyed by step so
    that resuming needs nothing but the step number).
    """

    def __init__(self, n_photos: int, batch_size: int, seed: int = 0, start_step: int = 0,
                 rank: int = 0, world: int = 1) -> None:
        self.n = int(n_photos)
        self.batch = int(batch_size)
        self.seed = int(seed)
        self.start = int(start_step)
        self.rank = int(rank)
        self.world = int(world)

    def _perm(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, 7919, epoch]).permutation(self.n)

    def __iter__(self) -> Iterator[list[tuple[int, int, int]]]:
        step = self.start
        global_batch = self.batch * self.world
        cached: tuple[int, np.ndarray] = (-1, np.empty(0, np.int64))
        while True:
            out = []
            for i in range(self.batch):
                slot = self.rank + i * self.world
                g = step * global_batch + slot
                epoch, pos = divmod(g, self.n)
                if cached[0] != epoch:
                    cached = (epoch, self._perm(epoch))
                out.append((step, slot, int(cached[1][pos])))
            yield out
            step += 1

    def __len__(self) -> int:  # an endless stream; the loop stops at its step budget
        return 1 << 62


def _worker_init(_: int) -> None:
    # Data workers share the CPU with the training step: one thread each, no oversubscription.
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def make_loader(dataset: PhotoCrops, batch_size: int, *, start_step: int = 0, num_workers: int = 1,
                rank: int = 0, world: int = 1) -> DataLoader:
    sampler = StepSampler(len(dataset), batch_size, dataset.seed, start_step, rank, world)
    return DataLoader(dataset, batch_sampler=sampler, num_workers=num_workers,
                      persistent_workers=num_workers > 0, worker_init_fn=_worker_init if num_workers > 0 else None, pin_memory=torch.cuda.is_available(),
                      prefetch_factor=4 if num_workers > 0 else None)
