"""smpvision: scalp-micropigmentation photo analysis (zones, scars, hair density, skin tone, pigment advice).

Kept import-light on purpose: `import smpvision` must not pull in onnxruntime, OpenCV or the renderer.
"""

__version__ = "0.1.0"
