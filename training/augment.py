"""albumentations presets that move the image, the zone mask and the hair points together.

`train`: geometry (flips, 90° turns, random crops and zoom), camera (blur, noise, JPEG, resolution loss) and
colour (white balance, exposure, saturation) — the differences between our renderer and real phones and
dermoscopes that we know of. `eval`: only brings an image to the training size. Both end in a fixed
`size`×`size` crop; pixels outside the photo are background (class 0) with no hairs.
"""

from __future__ import annotations

from collections.abc import Callable

import albumentations as A
import cv2

PRESETS: dict[str, Callable[[int], A.Compose]] = {}


def preset(name: str) -> Callable[[Callable[[int], A.Compose]], Callable[[int], A.Compose]]:
    def wrap(build: Callable[[int], A.Compose]) -> Callable[[int], A.Compose]:
        PRESETS[name] = build
        return build

    return wrap


def build_augment(name: str, size: int) -> A.Compose:
    if name not in PRESETS:
        raise ValueError(f"unknown augmentation preset {name!r}; valid: {', '.join(sorted(PRESETS))}")
    return PRESETS[name](size)


def _compose(transforms: list[A.BasicTransform]) -> A.Compose:
    # remove_invisible drops hair points pushed outside the crop, so the count stays the crop's count
    return A.Compose(transforms, keypoint_params=A.KeypointParams(format="xy", remove_invisible=True))


def _fit(size: int) -> list[A.BasicTransform]:
    return [
        A.LongestMaxSize(max_size=size),
        A.PadIfNeeded(size, size, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0),
    ]


@preset("eval")
def eval_preset(size: int) -> A.Compose:
    return _compose(_fit(size))


@preset("train")
def train_preset(size: int) -> A.Compose:
    return _compose(
        [
            A.HorizontalFlip(p=0.5),
            A.RandomRotate90(p=0.5),
            # crops of a random part of the photo, never padded: a model trained on centred heads with
            # black borders learnt "image edge = background" and then failed on full-frame close-ups
            A.RandomResizedCrop(size=(size, size), scale=(0.3, 1.0), ratio=(0.8, 1.25), p=0.85),
            *_fit(size),
            A.OneOf(
                [
                    A.GaussianBlur(blur_limit=(3, 5)),
                    A.MotionBlur(blur_limit=(3, 7)),
                    A.Defocus(radius=(1, 3)),
                    A.Downscale(scale_range=(0.4, 0.8)),
                ],
                p=0.35,
            ),
            A.RandomBrightnessContrast(brightness_limit=0.25, contrast_limit=0.25, p=0.7),
            A.HueSaturationValue(hue_shift_limit=8, sat_shift_limit=20, val_shift_limit=10, p=0.5),
            A.RandomGamma(gamma_limit=(75, 135), p=0.3),
            A.PlanckianJitter(p=0.2),
            A.CLAHE(clip_limit=2.0, p=0.1),
            A.OneOf([A.GaussNoise(std_range=(0.02, 0.08)), A.ISONoise()], p=0.3),
            A.ImageCompression(quality_range=(35, 95), p=0.4),
        ]
    )


@preset("real")
def real_preset(size: int) -> A.Compose:
    """Real hair-loss photos for the weak severity loss (training/weak.py): the image only (no labels to
    move), whole, as the runtime sees an overview; mild camera and colour changes, no crops (a crop can
    cut away the bald part that makes the photo's level)."""
    return _compose(
        [
            A.HorizontalFlip(p=0.5),
            *_fit(size),
            A.RandomBrightnessContrast(brightness_limit=0.15, contrast_limit=0.15, p=0.5),
            A.HueSaturationValue(hue_shift_limit=5, sat_shift_limit=10, val_shift_limit=5, p=0.3),
            A.ImageCompression(quality_range=(50, 95), p=0.3),
        ]
    )
