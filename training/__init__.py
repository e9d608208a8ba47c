"""Training recipe for the smpvision network (torch, torchvision, albumentations: the train extra).

Never imported by the runtime package; `smpvision train/export` import it lazily. `evaluate` and
`realdata` need only numpy/OpenCV and the ONNX runtime."""
