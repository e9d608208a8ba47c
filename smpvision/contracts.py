"""Fixed contracts shared by the renderer, the loader, the model and outside software (see DESIGN.md).

Changing an id or a name here breaks the ONNX contract and the assessment schema: bump their versions.
"""

from __future__ import annotations

ZONE_CLASSES: tuple[str, ...] = ("background", "hair", "thinning", "bald", "scar")
ZONE_IDS: dict[str, int] = {name: i for i, name in enumerate(ZONE_CLASSES)}
SCALP_ZONES: tuple[str, ...] = ZONE_CLASSES[1:]  # every class but background: what "scalp" is made of
IGNORE_INDEX = 255  # zone-mask value for "unlabelled / ignore"

SCAR_TYPES: tuple[str, ...] = ("fut_strip", "fue_dots", "irregular", "raised")

VIEW_KINDS: tuple[str, ...] = ("overview", "closeup")
OVERVIEW_REGIONS: tuple[str, ...] = ("top", "front", "crown", "back", "side")
CLOSEUP_REGIONS: tuple[str, ...] = ("trichoscope", "macro")

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png")
