"""The ONNX file used with nothing else (docs/EMBEDDING.md): the Node.js example (onnxruntime-node) and the
plain-Python example (onnxruntime, numpy, Pillow) give the same input pixels, outputs and headline numbers.

The Node tests need node and npm on PATH and install examples/node's locked dependencies once
(`npm ci --ignore-scripts` into the git-ignored examples/node/node_modules; reused while
package-lock.json is unchanged)."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE_DIR = ROOT / "examples" / "node"
NODE_SCRIPT = NODE_DIR / "assess.js"
PY_SCRIPT = ROOT / "examples" / "python" / "assess.py"
MODEL = ROOT / "smpvision" / "models" / "smpvision-zones.onnx"
MODEL_INT8 = ROOT / "smpvision" / "models" / "smpvision-zones.int8.onnx"
STAMP = NODE_DIR / "node_modules" / ".smpvision-package-lock.sha256"
TOL = 1e-4
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED", "ECONNRESET", "ENETUNREACH")


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        pytest.skip(
            f"{missing} not on PATH: the Node.js example (examples/node) needs Node.js >= 18 with npm"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    major = re.match(r"v(\d+)", version)
    if major is None or int(major.group(1)) < 18:
        pytest.skip(f"node {version or '?'} is too old: onnxruntime-node needs Node.js >= 18")
    lock = hashlib.sha256((NODE_DIR / "package-lock.json").read_bytes()).hexdigest()
    installed = (NODE_DIR / "node_modules" / "onnxruntime-node" / "package.json").is_file()
    if not (installed and STAMP.is_file() and STAMP.read_text().strip() == lock):
        # --ignore-scripts: onnxruntime-node's CPU binaries ship in the npm package; its install script
        # only fetches optional CUDA libraries from nuget.org, which a CI machine may not reach
        env = {**os.environ, "ONNXRUNTIME_NODE_INSTALL": "skip", "npm_config_update_notifier": "false"}
        cmd = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
        proc = subprocess.run(cmd, cwd=NODE_DIR, capture_output=True, text=True, env=env, timeout=900)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
            if any(code in proc.stderr for code in NETWORK_ERRORS):
                pytest.skip(f"npm ci in examples/node could not reach the npm registry: {tail[0]}")
            pytest.fail(f"npm ci in examples/node failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        STAMP.write_text(lock + "\n")
    return node


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, render_sample) -> dict[str, Path]:
    """PNGs (lossless, so both decoders see the same pixels) for each resize path of the examples."""
    from PIL import Image

    out = tmp_path_factory.mktemp("embedding")
    images = {
        # already at the overview size: no resize
        "overview256": render_sample(seed=(3, 1), size=256, kind="overview").image,
        # 384x300: area-averaged down to 256x200 (a non-integer factor)
        "overview384x300": render_sample(seed=(3, 3), size=384, kind="overview").image[:300],
        # close-up, 128 px: enlarged (bilinear) to the overview size without a scale; with 0.03 mm/px
        # (inside the trained range) run as it is; with 0.005 mm/px shrunk to the typical close-up scale
        "closeup128": render_sample(seed=(3, 4), size=128, kind="closeup").image,
    }
    paths = {}
    for name, pixels in images.items():
        paths[name] = out / f"{name}.png"
        Image.fromarray(pixels).save(paths[name])
    return paths


# ------------------------------------------------------------------------------------------ helpers


def run_example(
    cmd: list[str], tmp: Path, tag: str, model: Path, image: Path, *extra: str
) -> tuple[dict, Path]:
    raw = tmp / f"raw-{tag}"
    proc = subprocess.run(
        [*cmd, str(model), str(image), "--raw", str(raw), *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{tag} failed (exit {proc.returncode}): {proc.stderr}"
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"{tag} must print exactly one JSON line, got: {proc.stdout!r}"
    return json.loads(lines[0]), raw


def read_raw(raw: Path) -> dict[str, np.ndarray]:
    shapes = json.loads((raw / "shapes.json").read_text())
    return {
        "image": np.fromfile(raw / "image.u8", np.uint8).reshape(shapes["image"]),
        "zones": np.fromfile(raw / "zones.f32", "<f4").reshape(shapes["zones"]),
        "density": np.fromfile(raw / "density.f32", "<f4").reshape(shapes["density"]),
    }


def class_names(model: Path) -> list[str]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return json.loads(session.get_modelmeta().custom_metadata_map["smpvision.class_names"])


def headline(zones: np.ndarray, density: np.ndarray, classes: list[str]) -> tuple[dict[str, float], float]:
    """The numbers docs/EMBEDDING.md defines, from raw outputs: shares of non-background argmax pixels."""
    ids = zones[0].argmax(0)
    scalp = int((ids != 0).sum())
    shares = {name: float((ids == c).sum()) / scalp for c, name in enumerate(classes) if c != 0}
    return shares, float(density.sum(dtype=np.float64))


# ------------------------------------------------------------------------------------------ parity

CASES = [
    ("fp32-overview256", MODEL, "overview256", ()),
    ("int8-overview384x300", MODEL_INT8, "overview384x300", ()),
    ("fp32-closeup128", MODEL, "closeup128", ()),
    ("fp32-closeup128-in-range", MODEL, "closeup128", ("--mm-per-px", "0.03")),
    ("fp32-closeup128-fine", MODEL, "closeup128", ("--mm-per-px", "0.005")),
]


@pytest.mark.slow
@pytest.mark.parametrize(("tag", "model", "photo", "extra"), CASES, ids=[c[0] for c in CASES])
def test_node_matches_python(node, photos, tmp_path, tag, model, photo, extra) -> None:
    classes = class_names(model)
    js, js_raw = run_example([node, str(NODE_SCRIPT)], tmp_path, "node", model, photos[photo], *extra)
    py, py_raw = run_example(
        [sys.executable, str(PY_SCRIPT)], tmp_path, "python", model, photos[photo], *extra
    )

    assert set(js) == set(py) == {"zone_shares", "hairs"}
    assert list(js["zone_shares"]) == list(py["zone_shares"]) == classes[1:]  # names from the metadata
    for name in classes[1:]:
        assert js["zone_shares"][name] == pytest.approx(py["zone_shares"][name], abs=TOL), name
    assert js["hairs"] == pytest.approx(py["hairs"], rel=TOL)
    assert sum(js["zone_shares"].values()) == pytest.approx(1.0, abs=1e-9)

    a, b = read_raw(js_raw), read_raw(py_raw)
    assert a["image"].shape == b["image"].shape and np.array_equal(a["image"], b["image"]), "resize differs"
    for key in ("zones", "density"):
        assert a[key].shape == b[key].shape, key
        assert float(np.abs(a[key] - b[key]).max()) <= TOL, key
    _, _, h, w = a["zones"].shape
    assert a["image"].shape == (1, h, w, 3) and a["density"].shape == (1, 1, h, w)

    # each script's JSON is what its own raw outputs say
    for printed, raw in ((js, a), (py, b)):
        shares, hairs = headline(raw["zones"], raw["density"], classes)
        assert printed["zone_shares"] == pytest.approx(shares, abs=1e-12)
        assert printed["hairs"] == pytest.approx(hairs, rel=1e-9)


@pytest.mark.slow
def test_python_example_matches_runtime_hair_count(photos, tmp_path) -> None:
    """The example's overview resize is the runtime's (area average to the model's overview size), so its
    hair count is Segmenter's hair_count; zone shares differ slightly (the runtime takes the argmax at
    the photo's own size)."""
    from PIL import Image

    from smpvision.segmenter import Segmenter

    py, _ = run_example(
        [sys.executable, str(PY_SCRIPT)], tmp_path, "python", MODEL, photos["overview384x300"]
    )
    with Segmenter.from_path(MODEL) as seg:
        result = seg.segment(np.asarray(Image.open(photos["overview384x300"]).convert("RGB")), "overview")
    assert py["hairs"] == pytest.approx(result.hair_count, rel=1e-3)
    ids = result.zones
    scalp = int((ids != 0).sum())
    for c, name in enumerate(class_names(MODEL)[1:], start=1):
        assert py["zone_shares"][name] == pytest.approx(float((ids == c).sum()) / scalp, abs=0.02), name


# ------------------------------------------------------------------------------------------ errors


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, photos) -> dict[str, tuple[Path, Path, str]]:
    """name -> (model, image, what the one-line message must say)."""
    out = tmp_path_factory.mktemp("embedding-errors")
    text = out / "notes.png"
    text.write_text("not an image, whatever the name says\n")
    cases = {
        "not-an-image": (MODEL, text, "not a"),
        "missing-image": (MODEL, out / "missing.png", "not found"),
        "photo-as-model": (photos["overview256"], photos["overview256"], "not a loadable ONNX model"),
    }
    try:
        import onnx
        from onnx import TensorProto, helper
    except ImportError:
        return cases
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "other",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    other = out / "other.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9), other)
    cases["other-model"] = (other, photos["overview256"], "not an smpvision model")
    return cases


@pytest.mark.slow
@pytest.mark.parametrize("case", ["not-an-image", "missing-image", "photo-as-model", "other-model"])
@pytest.mark.parametrize("lang", ["node", "python"])
def test_errors_are_one_line(request, bad_inputs, lang, case) -> None:
    if case not in bad_inputs:
        pytest.skip("the onnx package (train extra) builds the non-smpvision model")
    if lang == "node":
        cmd, prefix = [request.getfixturevalue("node"), str(NODE_SCRIPT)], "assess.js: "
    else:
        cmd, prefix = [sys.executable, str(PY_SCRIPT)], "assess.py: "
    model, image, expected = bad_inputs[case]
    proc = subprocess.run([*cmd, str(model), str(image)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix) and expected in lines[0], proc.stderr


# ------------------------------------------------------------------------------------------ fast checks


def test_python_example_needs_only_onnxruntime_numpy_pillow() -> None:
    tree = ast.parse(PY_SCRIPT.read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    third_party = modules - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party == {"numpy", "onnxruntime", "PIL"}


def test_node_dependencies_are_pinned_and_locked() -> None:
    package = json.loads((NODE_DIR / "package.json").read_text())
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version}: pin an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
    assert "onnxruntime-node" in package["dependencies"]
