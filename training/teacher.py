"""A density teacher: an exported model (any ONNX file of the contract) whose density map becomes the
density target of the rendered batch, in place of the hair points (`loss.density_teacher`).

Why: every density decoder fitted to the rendered hair points counts rendered close-ups well and real
dermoscope frames not at all (MODEL_CARD.md: real trichoscopy 77–160 %, r ≤ 0.19), while the shipped
model's map, learnt on older renders through a backbone shaped by the count, is the only one that follows
the real boxes at all (41 %, r 0.26). Distilling it into a decoder on a better zone backbone asks whether
its way of answering carries over. The teacher sees the rendered images only, as the student does: no real
close-up is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

# flips over (H, W) axes of an NHWC batch: a flipped photo has the same hairs, so averaging the teacher's
# maps over flips (flipped back) cancels part of its noise; its count swings ±20–40 % under a 1–2 % rescale
_FLIPS = ((), (2,), (1,), (1, 2))


class DensityTeacher:
    def __init__(self, path: str | Path, threads: int = 1, flips: int = 1):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"loss.density_teacher: no ONNX file at {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.path = path
        if flips not in (1, 2, 4):
            raise ValueError(f"loss.density_teacher_flips must be 1, 2 or 4, not {flips}")
        self.flips = _FLIPS[:flips]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [N, H, W, 3] RGB → float32 [N, H, W] hairs per pixel (the teacher's map, on its device)."""
        batch = images.detach().cpu().numpy().astype(np.uint8, copy=False)
        total = np.zeros(batch.shape[:3], np.float32)
        for axes in self.flips:
            view = np.ascontiguousarray(np.flip(batch, axes) if axes else batch)
            (density,) = self.session.run(["density"], {"image": view})
            # the map's axes are (N, H, W) after [:, 0]: NHWC axes 1, 2 are its axes 1, 2 too
            total += np.flip(density[:, 0], axes) if axes else density[:, 0]
        return torch.from_numpy(total / len(self.flips)).to(images.device)


def teach(batch: dict[str, torch.Tensor], teacher: DensityTeacher) -> dict[str, torch.Tensor]:
    """The batch with the teacher's map as every scene's hair target (counts known everywhere)."""
    hairs = teacher(batch["image"])
    return {
        **batch,
        "hairs": hairs.to(batch["hairs"].dtype),
        "has_hairs": torch.ones_like(batch["has_hairs"]),
    }
