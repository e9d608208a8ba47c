"""Recovering a training checkpoint from an exported ONNX file (training/from_onnx.py), fine-tuning it with
frozen BatchNorm, and a narrower separate density decoder started from a shared-decoder checkpoint.
Tiny models; skipped without the train extra."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra: pip install -e '.[train]'")
pytest.importorskip("onnx")

from tests.test_training import tiny_config  # noqa: E402
from training.export import ServingModel, export_onnx, quantize_int8, training_summary  # noqa: E402
from training.from_onnx import checkpoint_from_onnx, main, recover_network, stages_from_summary  # noqa: E402
from training.train import build_model, fit, init_from_checkpoint, load_checkpoint  # noqa: E402


def _trained_looking(net: torch.nn.Module) -> torch.nn.Module:
    """Random BatchNorm statistics and affine terms, so folding them into the convolutions matters."""
    gen = torch.Generator().manual_seed(3)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            for t, lo, hi in (
                (m.running_mean, -1, 1),
                (m.running_var, 0.5, 2),
                (m.weight, 0.5, 1.5),
                (m.bias, -1, 1),
            ):
                t.data.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)
    return net.eval()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module, list[dict]]:
    tmp = tmp_path_factory.mktemp("recover")
    cfg = tiny_config(tmp / "run", extra=("model.density_decoder=separate",))
    torch.manual_seed(0)
    net = _trained_looking(build_model(cfg))
    stages = [
        {"from_step": 0, "to_step": 5, "renderer": 2, "size": 64, "closeup_fraction": 0.35, "folders": [],
         "views_per_step": cfg.optim.batch_size},
        {"from_step": 5, "to_step": 8, "renderer": None, "size": 64, "closeup_fraction": 0.6,
         "folders": ["photos/a (weight 0.5)"], "views_per_step": cfg.optim.batch_size},
    ]  # fmt: skip
    path = tmp / "model.onnx"
    export_onnx(net, cfg, path, step=8, stages=stages, trace_size=(64, 64), check_size=(48, 80))
    return path, net, stages


def test_recovered_network_gives_the_onnx_outputs(exported) -> None:
    path, original, _ = exported
    recovered, cfg, _ = recover_network(path)
    assert cfg.model.density_decoder == "separate"
    x = torch.randint(0, 256, (2, 56, 72, 3), dtype=torch.uint8)
    with torch.no_grad():
        a, b = ServingModel(original).eval()(x), ServingModel(recovered).eval()(x)
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v, atol=1e-4, rtol=1e-4)
    # the BatchNorms became identities carrying the folded shift
    bns = [m for m in recovered.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(float(m.running_mean.abs().max()) == 0 for m in bns)


def test_training_stages_read_back_from_the_summary(exported) -> None:
    _, _, stages = exported
    assert stages_from_summary(training_summary(stages), stages[0]["views_per_step"]) == stages
    one_device = [dict(stages[0], closeup_fraction=1.0, closeup_region="trichoscope"), stages[1]]
    assert "(all trichoscope)" in training_summary(one_device)
    assert stages_from_summary(training_summary(one_device), stages[0]["views_per_step"]) == one_device
    tuned = [stages[0], dict(stages[1], train_only="zones_decoder", folders=["a/b"])]
    assert ", only zones_decoder trained, folder a/b" in training_summary(tuned)
    assert stages_from_summary(training_summary(tuned), stages[0]["views_per_step"]) == tuned
    with pytest.raises(ValueError, match="no training stages"):
        stages_from_summary("hand-made weights", 2)


def test_recovered_checkpoint_fine_tunes_with_frozen_batchnorm(exported, tmp_path: Path) -> None:
    path, _, stages = exported
    ckpt_path = tmp_path / "recovered.pt"
    report = checkpoint_from_onnx(path, ckpt_path, elapsed_minutes=1.5, calibration_images=0)
    assert report["zones_max_diff"] < 1e-3 and report["step"] == 8
    ckpt = torch.load(ckpt_path, weights_only=False)
    assert ckpt["config"]["optim"]["freeze_batchnorm"] is True and ckpt["elapsed_s"] == 90.0
    assert ckpt["stages"] == stages

    run = tmp_path / "ft"
    out = fit(tiny_config(run, steps=10, extra=(f"init_from={ckpt_path}", "model.density_decoder=separate",
                                                "optim.freeze_batchnorm=true")))  # fmt: skip
    net, _, tuned = load_checkpoint(out)
    assert tuned["step"] == 10 and len(tuned["stages"]) == 3
    before, after = torch.load(ckpt_path, weights_only=False)["model"], net.state_dict()
    stats = [k for k in after if k.endswith(("running_mean", "running_var"))]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)  # frozen: never updated
    assert any(not torch.equal(before[k], after[k]) for k in after if k.endswith(".weight"))  # but trained


def test_calibrated_batchnorm_keeps_eval_outputs_and_matches_batch_statistics(
    exported, tmp_path: Path
) -> None:
    """The default recovery measures BatchNorm statistics on rendered scenes: the ONNX outputs are kept
    (parity is checked before writing), and in training mode a batch of such scenes is normalised by
    statistics close to the recorded ones, so a normal fine-tune does not undo the folded scale."""
    from smpvision.synth import render_sample
    from training.model import preprocess

    path, _, _ = exported
    ckpt_path = tmp_path / "calibrated.pt"
    report = checkpoint_from_onnx(path, ckpt_path, calibration_images=8)
    assert report["zones_max_diff"] < 1e-3 and report["density_max_rel_diff"] < 1e-3
    net, cfg, _ = load_checkpoint(ckpt_path)
    assert cfg.optim.freeze_batchnorm is False
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert any(float(m.running_mean.abs().max()) > 0 for m in bns)
    x = preprocess(torch.from_numpy(np.stack([render_sample(i, 64).image for i in range(8)])))
    net.eval()
    with torch.no_grad():
        served = net(x)["density"]
        net.train()
        trained = net(x)["density"]
    # other scenes than the calibration ones: close, not equal
    assert float((served - trained).abs().mean()) < 0.25 * float(served.abs().mean()) + 1e-6


def test_density_tail_network_is_recovered_with_its_own_copy(tmp_path: Path) -> None:
    """model.density_tail: the density branch runs its own copy of the last backbone layers. After training
    the copy and the shared layers differ, so each Conv node must land in its own module."""
    cfg = tiny_config(tmp_path / "run", extra=("model.density_decoder=separate", "model.density_tail=4"))
    torch.manual_seed(0)
    net = _trained_looking(build_model(cfg))
    with torch.no_grad():  # the copy drifts from the layers it was copied from, as training makes it
        for name, p in net.named_parameters():
            if name.startswith("density_tail.") and name.endswith(".weight"):
                p.mul_(1.5)
    path = tmp_path / "tail.onnx"
    stages = [
        {"from_step": 0, "to_step": 4, "renderer": 13, "size": 64, "closeup_fraction": 0.35, "folders": [],
         "views_per_step": cfg.optim.batch_size, "train_only": "zones_and_tail"},
    ]  # fmt: skip
    export_onnx(net, cfg, path, step=4, stages=stages, trace_size=(64, 64), check_size=(48, 80))
    recovered, rcfg, _ = recover_network(path)
    assert rcfg.model.density_tail == 4
    x = torch.randint(0, 256, (2, 56, 72, 3), dtype=torch.uint8)
    with torch.no_grad():
        a, b = ServingModel(net).eval()(x), ServingModel(recovered).eval()(x)
    for u, v in zip(a, b, strict=True):
        torch.testing.assert_close(u, v, atol=1e-4, rtol=1e-4)
    report = checkpoint_from_onnx(path, tmp_path / "tail.pt", calibration_images=0)
    assert report["density_max_rel_diff"] < 1e-3
    assert torch.load(tmp_path / "tail.pt", weights_only=False)["stages"] == stages


def test_int8_file_and_missing_file_are_refused(exported, tmp_path: Path, capsys) -> None:
    path, _, _ = exported
    int8 = quantize_int8(path, tmp_path / "model.int8.onnx",
                         calibration=[np.zeros((64, 64, 3), np.uint8)])  # fmt: skip
    with pytest.raises(ValueError, match="fp32 file"):
        recover_network(int8)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nothing.onnx"), str(tmp_path / "x.pt")])
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # one line naming the fix, not a traceback
        main([str(int8), str(tmp_path / "x.pt")])
    assert exit_info.value.code == 1 and "fp32 file" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_narrower_density_decoder_starts_fresh_from_a_shared_checkpoint(tmp_path: Path) -> None:
    first = fit(tiny_config(tmp_path / "a", steps=2))
    old, _, _ = load_checkpoint(first)
    narrow = ("model.density_decoder=separate", "model.density_width=4")
    net = build_model(tiny_config(tmp_path / "b", extra=narrow))
    assert net.density_head.in_channels == 4 and net.density_lateral[0].out_channels == 4
    fresh = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.AdamW(net.parameters())
    init_from_checkpoint(net, opt, first)
    state = net.state_dict()
    assert all(torch.equal(state[k], fresh[k]) for k in state if k.startswith("density_"))
    x = torch.randint(0, 256, (1, 40, 40, 3), dtype=torch.uint8)
    with torch.no_grad():
        a, b = ServingModel(old).eval()(x), ServingModel(net).eval()(x)
    torch.testing.assert_close(a[0], b[0])  # zones: the checkpoint's
    assert b[1].shape == a[1].shape
    params = dict(net.named_parameters())
    assert params["density_head.weight"] not in opt.state  # no moments to carry over
    # only a separate decoder may start fresh: a shared-decoder network whose density head does not fit
    # the checkpoint's is another kind of network
    narrow_ckpt = fit(tiny_config(tmp_path / "c", steps=1, extra=narrow))
    shared = build_model(tiny_config(tmp_path / "d"))
    with pytest.raises(ValueError, match="density_head"):
        init_from_checkpoint(shared, torch.optim.AdamW(shared.parameters()), narrow_ckpt)
