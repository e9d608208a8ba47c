"""Export: the ONNX contract of DESIGN.md, self-checks, metadata, int8, and the runtime Segmenter on an
exported tiny model. Skipped without the train extra."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra: pip install -e '.[train]'")
pytest.importorskip("onnx")

from smpvision.segmenter import Segmenter, SegmenterOptions  # noqa: E402
from training.config import load_config  # noqa: E402
from training.export import export_onnx, quantize_int8  # noqa: E402
from training.train import build_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = load_config(ROOT / "configs/train_cpu.yaml", ["model.width=8", "data.size=64"])
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    report = export_onnx(build_model(cfg), cfg, path, step=5, trace_size=(64, 64), check_size=(48, 80))
    assert report.max_abs_diff_zones < 1e-3 and report.parity_size == (48, 80)
    return path


def test_onnx_io_contract_and_metadata(exported: Path) -> None:
    import onnxruntime as ort

    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "image" and inp.type == "tensor(uint8)" and inp.shape[3] == 3
    assert [o.name for o in session.get_outputs()] == ["zones", "density"]
    assert [o.shape[1] for o in session.get_outputs()] == [5, 1]  # fixed channels, as DESIGN.md says
    zones, density = session.run(None, {"image": np.zeros((3, 37, 53, 3), np.uint8)})  # any N, H, W
    assert zones.shape == (3, 5, 37, 53) and density.shape == (3, 1, 37, 53)
    np.testing.assert_allclose(zones.sum(1), 1.0, atol=1e-5)
    # the serving softmax is written out element-wise (ONNX Runtime's Softmax over the channel axis is
    # 3-5x slower; training.model._channel_softmax)
    import onnx

    assert "Softmax" not in {n.op_type for n in onnx.load(str(exported)).graph.node}
    meta = session.get_modelmeta().custom_metadata_map
    for key in (
        "format_version",
        "package_version",
        "class_names",
        "density_unit",
        "closeup_mm_per_px",
        "training_data",
        "weights_sha256",
    ):
        assert meta[f"smpvision.{key}"], key
    assert json.loads(meta["smpvision.class_names"]) == ["background", "hair", "thinning", "bald", "scar"]
    assert len(meta["smpvision.weights_sha256"]) == 64
    assert meta["smpvision.zones_from"] == "classes"


def test_relative_density_model_exports_with_its_split_and_says_so(tmp_path: Path) -> None:
    import onnxruntime as ort

    cfg = load_config(
        ROOT / "configs/train_cpu.yaml", ["model.width=8", "data.size=64", "model.relative_density=true"]
    )
    torch.manual_seed(0)
    report = export_onnx(build_model(cfg), cfg, tmp_path / "rel.onnx", step=5, trace_size=(64, 64),
                         check_size=(48, 80))  # fmt: skip
    assert report.max_abs_diff_zones < 1e-3
    session = ort.InferenceSession(str(tmp_path / "rel.onnx"), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["zones", "density"]  # the contract is unchanged
    assert session.get_modelmeta().custom_metadata_map["smpvision.zones_from"] == "relative_density"


def test_density_tail_model_exports_with_parity_on_both_outputs(tmp_path: Path) -> None:
    """A network with model.density_tail (the density branch's own copy of the last backbone layers)
    exports, and both outputs match torch at a size other than the traced one."""
    overrides = ["model.width=8", "data.size=64", "model.density_decoder=separate", "model.density_tail=4"]
    cfg = load_config(ROOT / "configs/train_cpu.yaml", overrides)
    torch.manual_seed(0)
    model = build_model(cfg)
    assert model.density_tail is not None
    report = export_onnx(model, cfg, tmp_path / "tail.onnx", step=5, trace_size=(64, 64), check_size=(48, 80))
    assert report.max_abs_diff_zones < 1e-3 and report.max_abs_diff_density_rel < 1e-3


def test_zone_bias_is_folded_into_the_graph_and_recorded(exported: Path, tmp_path: Path) -> None:
    """export_onnx(zone_bias=…): the graph's probabilities are softmax(logits + bias), i.e. the unbiased
    probabilities reweighted by exp(bias) and renormalised; the metadata says which bias."""
    import onnxruntime as ort

    cfg = load_config(ROOT / "configs/train_cpu.yaml", ["model.width=8", "data.size=64"])
    torch.manual_seed(0)  # the same tiny network as the `exported` fixture
    bias = [0.0, -0.5, 1.5, 0.0, 0.25]
    report = export_onnx(build_model(cfg), cfg, tmp_path / "b.onnx", step=5, trace_size=(64, 64),
                         check_size=(48, 80), zone_bias=bias)  # fmt: skip
    assert report.max_abs_diff_zones < 1e-3
    image = {"image": np.random.default_rng(1).integers(0, 256, (1, 40, 56, 3), dtype=np.uint8)}
    plain = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    biased = ort.InferenceSession(str(tmp_path / "b.onnx"), providers=["CPUExecutionProvider"])
    p0, p1 = plain.run(["zones"], image)[0], biased.run(["zones"], image)[0]
    expected = p0 * np.exp(np.float32(bias))[None, :, None, None]
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(p1, expected, atol=1e-4)  # upsampling is linear: the reweighting commutes
    meta = biased.get_modelmeta().custom_metadata_map
    assert json.loads(meta["smpvision.zone_logit_bias"]) == bias
    assert "smpvision.zone_logit_bias" not in plain.get_modelmeta().custom_metadata_map
    with pytest.raises(ValueError, match="5 finite values"):
        export_onnx(build_model(cfg), cfg, tmp_path / "c.onnx", zone_bias=[0.0, 1.0])


def test_segmenter_keeps_the_hair_count_when_it_resizes(exported: Path) -> None:
    with Segmenter.from_path(exported, SegmenterOptions(threads=1, overview_side=64)) as seg:
        image = np.random.default_rng(0).integers(0, 256, (150, 100, 3), dtype=np.uint8)
        raw_density = seg.run(image)[1]
        result = seg.segment(image, view_kind="overview")
        assert result.zones_prob.shape == (5, 150, 100) and result.density.shape == (150, 100)
        assert result.zones.dtype == np.uint8 and result.model_scale == pytest.approx(64 / 150)
        small = seg.run(cv2.resize(image, (43, 64), interpolation=cv2.INTER_AREA))[1]
        assert result.hair_count == pytest.approx(float(small.sum()), rel=1e-4)
        same = seg.segment(image, view_kind=None)
        assert same.hair_count == pytest.approx(float(raw_density.sum()), rel=1e-5)
        given = seg.segment(image, view_kind="closeup", mm_per_px=0.002)  # far finer than trained: shrink
        assert given.scale_source == "given" and given.model_scale < 1


def test_segmenter_rejects_bad_input_with_the_fix(exported: Path) -> None:
    with Segmenter.from_path(exported) as seg:
        with pytest.raises(ValueError, match="uint8 RGB"):
            seg.segment(np.zeros((64, 64), np.uint8))
        with pytest.raises(ValueError, match="at least 32"):
            seg.segment(np.zeros((8, 64, 3), np.uint8))
        with pytest.raises(ValueError, match="view_kind"):
            seg.segment(np.zeros((64, 64, 3), np.uint8), view_kind="side")
    with pytest.raises(FileNotFoundError, match="not found"):
        Segmenter.from_path(exported.with_name("missing.onnx"))


@pytest.mark.slow
def test_int8_variant_runs_and_keeps_metadata(exported: Path) -> None:
    import onnxruntime as ort

    calibration = [np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8) for i in range(2)]
    path = quantize_int8(exported, exported.with_suffix(".int8.onnx"), calibration=calibration)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    zones, density = session.run(None, {"image": calibration[0][None]})
    assert zones.shape == (1, 5, 64, 64) and np.isfinite(density).all()
    assert "int8" in session.get_modelmeta().custom_metadata_map["smpvision.model"]
    # the convolutions that read 3 channels (normalisation, stem) stay float; every other is quantized
    import onnx

    graph = onnx.load(str(path)).graph
    made_by = {out: node for node in graph.node for out in node.output}
    dims = {t.name: tuple(t.dims) for t in graph.initializer}

    def in_channels(conv) -> int:  # a float weight is an initializer; a quantized one is dequantized
        w = made_by.get(conv.input[1])
        return dims[w.input[0] if w is not None else conv.input[1]][1]

    convs = [n for n in graph.node if n.op_type == "Conv"]
    quantized = {n.name for n in convs if made_by.get(n.input[1]) is not None}
    assert len(convs) > 10 and len(convs) - len(quantized) == 2
    assert all((in_channels(n) == 3) == (n.name not in quantized) for n in convs)


def test_closeups_of_known_scale_are_not_enlarged_inside_the_trained_range(exported: Path) -> None:
    """Enlarging a phone macro to the typical dermoscope scale made the model count blur as hair
    (Segmenter._closeup_factor); inside the trained range a close-up runs at its own pixel size."""
    with Segmenter.from_path(exported, SegmenterOptions(threads=1)) as seg:
        scale = seg.closeup_scale
        image = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)
        factor = {mm: seg.segment(image, view_kind="closeup", mm_per_px=mm).model_scale
                  for mm in (scale["typical"] / 4, scale["typical"], (scale["typical"] + scale["max"]) / 2,
                             scale["max"] * 2)}  # fmt: skip
        fine, typical, macro, coarse = factor.values()
        assert fine == pytest.approx(0.25) and typical == pytest.approx(1.0) and macro == pytest.approx(1.0)
        assert coarse == pytest.approx(2.0)  # coarser than any close-up it saw: up to the coarsest


def _tiny_checkpoint(
    tmp_path: Path, name: str, seed: int, size: int = 64, decoder: str = "shared"
) -> tuple[Path, torch.nn.Module]:
    from training.config import to_dict

    overrides = ["model.width=8", f"data.size={size}", f"model.density_decoder={decoder}"]
    cfg = load_config(ROOT / "configs/train_cpu.yaml", overrides)
    torch.manual_seed(seed)
    net = build_model(cfg)
    path = tmp_path / f"{name}.pt"
    torch.save({"model": net.state_dict(), "config": to_dict(cfg), "step": 3}, path)
    return path, net.eval()


@pytest.mark.parametrize("density_decoder", ["shared", "separate"])
def test_composite_file_serves_one_networks_zones_and_the_others_density(
    tmp_path: Path, density_decoder: str
) -> None:
    """`smpvision export --density-from`: both networks in one file that keeps the contract; its zones are
    the --checkpoint network's and its density the other's, and tools rebuild it from the metadata. A
    density network with a separate decoder runs without its zones decoder (its density must not change)."""
    import onnxruntime as ort

    from smpvision.cli import main
    from training.export import DENSITY_CONFIG_KEY, ServingModel, network_from_metadata
    from training.from_onnx import recover_network
    from training.model import ComposedSegmenter

    zones_ckpt, zones_net = _tiny_checkpoint(tmp_path, "zones", seed=0)
    density_ckpt, density_net = _tiny_checkpoint(tmp_path, "density", seed=1, decoder=density_decoder)
    out = tmp_path / "both.onnx"
    argv = ["export", "--checkpoint", str(zones_ckpt), "--density-from", str(density_ckpt), "--out", str(out)]
    assert main(argv) == 0
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(3).integers(0, 256, (2, 48, 80, 3), dtype=np.uint8)
    zones, density = session.run(None, {"image": image})
    with torch.no_grad():
        own_zones, other_density = ServingModel(zones_net)(torch.from_numpy(image))
        other_zones, own_density = ServingModel(density_net)(torch.from_numpy(image))
    np.testing.assert_allclose(zones, own_zones.numpy(), atol=1e-4)
    np.testing.assert_allclose(density, own_density.numpy(), rtol=1e-3, atol=1e-6)
    # the two tiny networks differ, so the file really takes each output from its own network
    assert np.abs(zones - other_zones.numpy()).max() > 1e-3
    assert np.abs(density - other_density.numpy()).max() > 1e-3 * float(density.max())
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["smpvision.model"].startswith("composite: zones mobilenet_v3_small_fpn")
    assert "Density network: procedural scalp renderer" in meta["smpvision.training_data"]
    assert json.loads(meta[DENSITY_CONFIG_KEY])["model"]["width"] == 8
    rebuilt = network_from_metadata(meta)
    assert isinstance(rebuilt, ComposedSegmenter)
    rebuilt.zones_net.load_state_dict(zones_net.state_dict())  # same architecture as each network
    rebuilt.density_net.load_state_dict(density_net.state_dict())
    with pytest.raises(ValueError, match="two networks"):
        recover_network(out)


def test_composite_export_refuses_networks_trained_at_two_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smpvision.cli import main

    zones_ckpt, _ = _tiny_checkpoint(tmp_path, "zones", seed=0, size=64)
    density_ckpt, _ = _tiny_checkpoint(tmp_path, "density", seed=1, size=96)
    argv = ["export", "--checkpoint", str(zones_ckpt), "--density-from", str(density_ckpt),
            "--out", str(tmp_path / "x.onnx")]  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and "must match" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()
