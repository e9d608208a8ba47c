"""The app's example photos: rendered by `smpvision.synth`, shipped in `smpvision/data/examples/`.

Three whole-head views of one rendered client (Norwood 5, short dark-brown hair; the top view holds the
printed scale card) and a trichoscope close-up of a scar, so a newcomer can try a one-photo assessment,
the scale card and a whole consultation in one click each. Regenerate with

    python -m smpvision.app_examples [OUT_DIR]

(the same seeds give the same pixels; JPEG keeps each file well under 300 KB, as a phone would send them).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from PIL import Image

EXAMPLES_DIR = Path(str(resources.files("smpvision") / "data" / "examples"))
SIZE = 512
CLIENT_SEED = (2024, 37)  # chosen by eye (renderer v3): front recession, crown thinning, dark hair


@dataclass(frozen=True)
class Example:
    file: str
    label: str  # what the app's example button says
    tag: str  # the view slot the app puts it in
    seed: tuple[int, int]
    kind: str
    region: str | None = None
    marker: bool = False
    # The scale a dermoscope would report for this photo (the renderer's label), put in the app's mm/px box
    # with the example. Without it the shaft-width estimate reads this close-up 48 % low (0.0145 against
    # 0.0278 mm/px), the photo is run at a quarter of its size and the scar may vanish: a real limit (model
    # card), not the demo's point.
    mm_per_px: float | None = None


EXAMPLES: tuple[Example, ...] = (
    Example("front_thinning.jpg", "Front, thinning", "front", CLIENT_SEED, "overview", "front"),
    Example("crown.jpg", "Crown", "crown", CLIENT_SEED, "overview", "crown"),
    Example(
        "top_with_scale_card.jpg", "Top with the scale card", "top", CLIENT_SEED, "overview", "top", True
    ),
    Example("closeup_scar.jpg", "Scar close-up", "closeup", (2024, 136), "closeup", mm_per_px=0.027761),
)


def write_examples(out_dir: str | Path = EXAMPLES_DIR) -> list[Path]:
    from .synth import render_sample  # only the writer needs the renderer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ex in EXAMPLES:
        sample = render_sample(ex.seed, size=SIZE, kind=ex.kind, region=ex.region, marker=ex.marker)
        path = out / ex.file
        Image.fromarray(sample.image).save(path, quality=90, optimize=True)
        paths.append(path)
    return paths


def example_path(example: Example) -> Path:
    return EXAMPLES_DIR / example.file


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write_examples(args[0] if args else EXAMPLES_DIR):
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
