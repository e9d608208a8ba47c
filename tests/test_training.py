"""Training recipe: config, registry, data, losses, a few-step fit with resume, and DDP on 2 CPU processes.
Tiny models at 64×64 so the suite stays fast; skipped when the train extra (torch) is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the train extra: pip install -e '.[train]'")
pytest.importorskip("albumentations")

from training.config import ConfigError, load_config  # noqa: E402
from training.data import ScalpStream, augment_item, splat_points  # noqa: E402
from training.losses import total_loss  # noqa: E402
from training.model import MEAN, STD, available_models, create_model, preprocess  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "data.size=64",
    "data.workers=0",
    "data.reuse=2",
    "model.width=8",
    "optim.batch_size=2",
    "optim.warmup_steps=1",
    "log_every=1",
    "checkpoint_every=2",
    "val_samples=2",
    "threads=1",
]


def tiny_config(tmp_path: Path, steps: int = 3, extra: tuple[str, ...] = ()) -> object:
    return load_config(
        ROOT / "configs/train_cpu.yaml", [*TINY, f"optim.steps={steps}", f"out_dir={tmp_path}", *extra]
    )


def test_shipped_config_loads_and_overrides_apply(tmp_path: Path) -> None:
    cfg = load_config(
        ROOT / "configs/train_cpu.yaml", ["optim.lr=1e-3", "data.folders=[{path: x, weight: 2}]"]
    )
    assert cfg.optim.lr == 1e-3 and isinstance(cfg.optim.lr, float)
    assert cfg.data.folders[0].path == "x" and cfg.data.folders[0].weight == 2.0


def test_gpu_recipe_loads_names_a_registered_model_and_keeps_the_trained_scale() -> None:
    cfg = load_config(ROOT / "configs/train_gpu.yaml", [])
    assert cfg.model.name in available_models()
    # the runtime's close-up scale follows from the training size: a GPU run must not change it
    assert cfg.data.size == load_config(ROOT / "configs/train_cpu.yaml", []).data.size


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optim.lrr=1"], "unknown key"),
        (["data.size=big"], "must be int"),
        (["nokey"], "section.key=value"),
    ],
)
def test_bad_config_is_rejected_with_the_fix(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "configs/train_cpu.yaml", overrides)


def test_registry_names_valid_models_on_error() -> None:
    assert "mobilenet_v3_small_fpn" in available_models()
    with pytest.raises(ValueError, match="mobilenet_v3_small_fpn"):
        create_model("resnet9000")


@pytest.mark.parametrize("name", available_models())
def test_model_outputs_at_input_size_for_odd_sizes(name: str) -> None:
    net = create_model(name, width=8).eval()
    image = torch.randint(0, 256, (2, 70, 90, 3), dtype=torch.uint8)
    with torch.no_grad():
        out = net(preprocess(image), probabilities=True)
    assert out["zones"].shape == (2, 5, 70, 90) and out["density"].shape == (2, 1, 70, 90)
    assert torch.allclose(out["zones"].sum(1), torch.ones(2, 70, 90), atol=1e-5)
    assert (out["density"] >= 0).all()


def test_preprocess_is_the_imagenet_normalisation() -> None:
    """preprocess runs as a 1×1 convolution (for the exported graph's sake): it must still be exactly
    (x / 255 − mean) / std per channel, NHWC uint8 in, NCHW float out."""
    image = torch.randint(0, 256, (2, 5, 7, 3), dtype=torch.uint8)
    x = image.permute(0, 3, 1, 2).float() / 255.0
    want = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    torch.testing.assert_close(preprocess(image), want, atol=1e-5, rtol=1e-5)


def test_splat_points_counts_every_point_in_its_pixel() -> None:
    counts = splat_points(np.array([[0.0, 0.0], [0.4, -0.4], [3.2, 1.0], [9.9, 9.9]], np.float32), 4, 5)
    assert counts.sum() == 4  # the out-of-image point is clipped to the border, not lost
    assert counts[0, 0] == 2 and counts[1, 3] == 1


def test_eval_augment_keeps_all_points_and_moves_them_with_the_image(render_sample) -> None:
    from training.augment import build_augment

    s = render_sample(11, size=64, kind="closeup")
    item = augment_item(build_augment("eval", 128), s.image, s.zones, s.hairs)  # a 2x upscale
    assert item["image"].shape == (128, 128, 3) and item["zones"].shape == (128, 128)
    assert float(item["hairs"].sum()) == pytest.approx(len(s.hairs))
    # a hair point lands where its pixel went: the first point's zone is the same class after scaling
    if len(s.hairs):
        x, y = s.hairs[0]
        ys, xs = np.nonzero(item["hairs"].numpy())
        assert int(s.zones[int(round(y)), int(round(x))]) in set(item["zones"].numpy()[ys, xs].tolist())


def test_closeup_region_fixes_the_device_of_every_close_up(tmp_path: Path, monkeypatch) -> None:
    import training.data as data_module

    calls: list[dict] = []
    real = data_module.render_sample

    def spy(seed, size, **kwargs):
        calls.append(kwargs)
        return real(seed, size, **kwargs)

    monkeypatch.setattr(data_module, "render_sample", spy)
    cfg = tiny_config(tmp_path, extra=("data.closeup_fraction=0.5", "data.closeup_region=macro"))
    stream = iter(ScalpStream(cfg.data, seed=3))
    for _ in range(12):
        next(stream)
    kinds = {c["kind"] for c in calls}
    assert kinds == {"closeup", "overview"}  # both drawn at a 0.5 close-up share
    assert all(c["region"] == ("macro" if c["kind"] == "closeup" else None) for c in calls)
    # stages record it only when set, so the stages of earlier runs still compare equal
    from training.train import training_stage

    assert training_stage(cfg, 0, 1)["closeup_region"] == "macro"
    assert "closeup_region" not in training_stage(tiny_config(tmp_path), 0, 1)
    bad = tiny_config(tmp_path, extra=("data.closeup_region=phone",))
    with pytest.raises(ValueError, match="closeup_region must be empty or one of trichoscope, macro"):
        ScalpStream(bad.data)


def test_stream_items_have_the_training_shapes(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    item = next(iter(ScalpStream(cfg.data, seed=3)))
    assert item["image"].dtype == torch.uint8 and item["image"].shape == (64, 64, 3)
    assert (
        item["zones"].shape == (64, 64) and item["hairs"].shape == (64, 64) and float(item["has_hairs"]) == 1
    )


def test_loss_is_finite_and_lower_for_the_right_answer(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    zones = torch.randint(0, 5, (2, 16, 16))
    hairs = torch.rand(2, 16, 16)
    batch = {"zones": zones, "hairs": hairs, "has_hairs": torch.ones(2)}
    right = {
        "zones": torch.nn.functional.one_hot(zones, 5).permute(0, 3, 1, 2).float() * 20,
        "density": hairs[:, None],
    }
    wrong = {"zones": torch.zeros(2, 5, 16, 16), "density": torch.zeros(2, 1, 16, 16)}
    good, bad = total_loss(right, batch, cfg.loss), total_loss(wrong, batch, cfg.loss)
    assert torch.isfinite(good["loss"]) and good["loss"] < 0.1 < bad["loss"]


def test_zones_only_forward_skips_the_density_decoder_and_its_losses(tmp_path: Path) -> None:
    """forward(density=False), used when only the zones decoder learns: the same zone logits, no density
    map, and a loss of cross-entropy and Dice alone (the same values as in the full loss)."""
    cfg = tiny_config(tmp_path)
    net = create_model("mobilenet_v3_small_fpn", width=8, density_decoder="separate").eval()
    x = preprocess(torch.randint(0, 256, (2, 64, 64, 3), dtype=torch.uint8))
    with torch.no_grad():
        full, zones_only = net(x), net(x, density=False)
    assert set(zones_only) == {"zones"} and torch.equal(full["zones"], zones_only["zones"])
    zones, hairs = torch.randint(0, 5, (2, 64, 64)), torch.rand(2, 64, 64)
    batch = {"zones": zones, "hairs": hairs, "has_hairs": torch.ones(2)}
    whole, part = total_loss(full, batch, cfg.loss), total_loss(zones_only, batch, cfg.loss)
    assert set(part) == {"loss", "ce", "dice"} and {"density", "count"} <= set(whole)
    assert torch.allclose(part["loss"], whole["ce"] + cfg.loss.dice_weight * whole["dice"])


def test_class_weights_raise_the_cost_of_missing_that_class(tmp_path: Path) -> None:
    cfg = tiny_config(tmp_path)
    zones = torch.full((1, 8, 8), 1)
    zones[:, :4] = 2  # half thinning, predicted as hair everywhere
    batch = {"zones": zones, "hairs": torch.zeros(1, 8, 8), "has_hairs": torch.zeros(1)}
    out = {"zones": torch.nn.functional.one_hot(torch.ones_like(zones), 5).permute(0, 3, 1, 2).float() * 4,
           "density": torch.zeros(1, 1, 8, 8)}  # fmt: skip
    cfg.loss.class_weights = []  # the shipped recipe's own weights would hide the difference
    plain = total_loss(out, batch, cfg.loss)["ce"]
    cfg.loss.class_weights = [1.0, 1.0, 3.0, 1.0, 1.0]
    weighted = total_loss(out, batch, cfg.loss)["ce"]
    assert weighted > plain * 1.3
    cfg.loss.class_weights = [1.0, 2.0]
    with pytest.raises(ValueError, match="class_weights"):
        total_loss(out, batch, cfg.loss)


def test_layout_kl_pulls_up_exit_cells_that_hold_no_mass(tmp_path: Path) -> None:
    from training.losses import density_losses, layout_kl_loss

    hairs = torch.zeros(2, 48, 48)
    hairs[0, 12, 12], hairs[0, 30, 36], hairs[1, 20, 20] = 1, 2, 1
    has = torch.ones(2)
    assert float(layout_kl_loss(hairs[:, None], hairs, has)) < 1e-6  # the true layout
    assert float(layout_kl_loss(5 * hairs[:, None], hairs, has)) < 1e-6  # layout only, not the count
    moved = hairs.roll(12, dims=2)[:, None] + 1e-6
    assert float(layout_kl_loss(moved, hairs, has)) > 5
    # no hairs, or an unknown count: nothing to lay out
    assert float(layout_kl_loss(hairs[:1, None], torch.zeros(1, 48, 48), torch.ones(1))) == 0.0
    assert float(layout_kl_loss(hairs[:1, None], hairs[:1], torch.zeros(1))) == 0.0

    # a sparse close-up predicted near zero everywhere (softplus of −10): the KL's push on the exit cell
    # is many times the total variation's, which scales with the mass the cell already holds
    logits = torch.full((1, 1, 48, 48), -10.0, requires_grad=True)
    pred = torch.nn.functional.softplus(logits)
    (kl_grad,) = torch.autograd.grad(layout_kl_loss(pred, hairs[:1], has[:1]), logits, retain_graph=True)
    (tv_grad,) = torch.autograd.grad(density_losses(pred, hairs[:1], has[:1])[0], logits)
    assert float(kl_grad[0, 0, 12, 12]) < 10 * float(tv_grad[0, 0, 12, 12]) < 0

    cfg = tiny_config(tmp_path)
    batch = {"zones": torch.ones(2, 48, 48, dtype=torch.long), "hairs": hairs, "has_hairs": has}
    out = {"zones": torch.zeros(2, 5, 48, 48), "density": moved}
    assert "layout_kl" not in total_loss(out, batch, cfg.loss)  # off by default: earlier recipes unchanged
    cfg.loss.layout_kl_weight = 2.0
    with_kl = total_loss(out, batch, cfg.loss)
    cfg.loss.layout_kl_weight = 0.0
    extra = float(with_kl["loss"] - total_loss(out, batch, cfg.loss)["loss"])
    assert extra == pytest.approx(2 * float(with_kl["layout_kl"]), rel=1e-4)


def test_any_scalp_target_accepts_any_scalp_class_but_not_scar(tmp_path: Path) -> None:
    from training.metrics import ANY_SCALP

    cfg = tiny_config(tmp_path)
    zones = torch.full((1, 4, 4), ANY_SCALP)
    batch = {"zones": zones, "hairs": torch.zeros(1, 4, 4), "has_hairs": torch.zeros(1)}

    def predicting(cls: int) -> dict:
        logits = torch.nn.functional.one_hot(torch.full((1, 4, 4), cls), 5).permute(0, 3, 1, 2).float() * 8
        return {"zones": logits, "density": torch.zeros(1, 1, 4, 4)}

    hair, bald, scar = (float(total_loss(predicting(c), batch, cfg.loss)["ce"]) for c in (1, 3, 4))
    assert hair < 0.01 and bald < 0.01 and scar > 5


def test_relative_density_head_divides_the_scalp_by_the_thresholds(tmp_path: Path) -> None:
    from training.model import split_scalp_by_relative

    # classifier: 0.8 scalp (spread evenly), 0.1 background, 0.1 scar; D picks which scalp class wins
    probs = torch.tensor([0.1, 0.8 / 3, 0.8 / 3, 0.8 / 3, 0.1]).view(1, 5, 1, 1).repeat(1, 1, 1, 3)
    d = torch.tensor([0.9, 0.3, 0.05]).view(1, 1, 1, 3)
    out = split_scalp_by_relative(probs, d)
    assert out.argmax(1).flatten().tolist() == [1, 2, 3]  # hair, thinning, bald
    torch.testing.assert_close(out.sum(1), torch.ones(1, 1, 3))
    torch.testing.assert_close(out[:, [0, 4]], probs[:, [0, 4]])  # background and scar untouched

    from training.train import build_model

    cfg = tiny_config(tmp_path, extra=("model.relative_density=true",))
    net = build_model(cfg)
    x = preprocess(torch.zeros(2, 40, 56, 3, dtype=torch.uint8))
    train_out = net(x)
    assert train_out["relative"].shape == (2, 1, 40, 56)
    rel = train_out["relative"].detach()
    assert 0 <= float(rel.min()) and float(rel.max()) <= 1
    net.eval()
    served = net(x, probabilities=True)
    assert set(served) == {"zones", "density"}
    torch.testing.assert_close(served["zones"].sum(1), torch.ones(2, 40, 56))

    item = next(iter(ScalpStream(cfg.data, seed=3)))
    assert item["relative"].shape == (64, 64) and float(item["has_relative"]) == 1
    zones = torch.tensor([[[1, 2, 3, 4]]])
    batch = {"zones": zones, "hairs": torch.zeros(1, 1, 4), "has_hairs": torch.zeros(1),
             "relative": torch.tensor([[[0.9, 0.3, 0.05, 0.0]]]), "has_relative": torch.ones(1)}  # fmt: skip
    logits = torch.nn.functional.one_hot(zones, 5).permute(0, 3, 1, 2).float() * 8
    right = total_loss({"zones": logits, "density": torch.zeros(1, 1, 1, 4),
                        "relative": batch["relative"][:, None]}, batch, cfg.loss)  # fmt: skip
    wrong = total_loss({"zones": logits, "density": torch.zeros(1, 1, 1, 4),
                        "relative": 1 - batch["relative"][:, None]}, batch, cfg.loss)  # fmt: skip
    assert float(right["relative"]) < 1e-6
    # mean of 0.8, 0.4, 0.9 over hair/thinning/bald; scoring the scar pixel too would give 0.775
    assert float(wrong["relative"]) == pytest.approx(0.7)


def test_fit_writes_checkpoint_with_config_and_resumes(tmp_path: Path) -> None:
    from training.train import fit, load_checkpoint

    path = fit(tiny_config(tmp_path, steps=2))
    assert (tmp_path / "config.yaml").is_file() and (tmp_path / "metrics.csv").is_file()
    net, cfg, ckpt = load_checkpoint(path)
    assert ckpt["step"] == 2 and cfg.model.width == 8
    fit(tiny_config(tmp_path, steps=4))
    assert torch.load(path, weights_only=False)["step"] == 4  # resumed at 2, not restarted
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and any(r.startswith("4,") for r in rows)


def test_fine_tune_on_other_data_is_a_new_stage_in_checkpoint_and_onnx_summary(tmp_path: Path) -> None:
    from training.export import metadata
    from training.train import checkpoint_stages, fit, load_checkpoint

    fit(tiny_config(tmp_path, steps=2))
    fit(tiny_config(tmp_path, steps=3))  # same data: the same stage goes on
    path = fit(tiny_config(tmp_path, steps=5, extra=("data.closeup_fraction=0.6",)))  # a fine-tune
    net, cfg, ckpt = load_checkpoint(path)
    stages = checkpoint_stages(ckpt)
    shipped = tiny_config(tmp_path).data.closeup_fraction
    assert shipped != 0.6
    assert [(s["from_step"], s["to_step"], s["closeup_fraction"]) for s in stages] == [
        (0, 3, shipped),
        (3, 5, 0.6),
    ]
    per_step = cfg.optim.batch_size
    summary = metadata(net, cfg, 5, stages=stages)["smpvision.training_data"]
    assert f"{3 * per_step} augmented views" in summary and f"then {2 * per_step} augmented views" in summary
    assert "60% close-ups" in summary and "version not recorded" not in summary
    # a checkpoint from before stages were recorded: one stage, renderer unknown, said so
    legacy = checkpoint_stages({k: v for k, v in ckpt.items() if k != "stages"})
    assert [(s["from_step"], s["to_step"], s["renderer"]) for s in legacy] == [(0, 5, None)]


def test_fit_with_hairloss_levels_logs_the_weak_losses_and_names_the_set(tmp_path: Path) -> None:
    """data.levels: real photos ride along in each step; their losses are logged, and the exported
    training summary says the model saw the (CC BY) set."""
    from PIL import Image

    from training.export import metadata
    from training.train import checkpoint_stages, fit, load_checkpoint

    root = tmp_path / "levels" / "train"
    root.mkdir(parents=True)
    rows = []
    for subject in range(1, 9):
        for level in (2, 6):
            name = f"{subject}-Top-Down_jpg.rf.{subject}{level}.jpg"
            Image.fromarray(np.full((40, 40, 3), 30 * level, np.uint8)).save(root / name)
            rows.append(f"{name}," + ",".join("1" if lvl == level else "0" for lvl in range(2, 8)))
    (root / "_classes.csv").write_text(
        "filename,LEVEL_2,LEVEL_3,LEVEL_4,LEVEL_5,LEVEL_6,LEVEL_7\n" + "\n".join(rows)
    )
    out = tmp_path / "run"
    path = fit(tiny_config(out, steps=2, extra=(f"data.levels={root.parent}", "data.levels_pairs=2")))
    header, *lines = (out / "metrics.csv").read_text().splitlines()
    cols = header.split(",")
    first = dict(zip(cols, lines[0].split(","), strict=False))
    assert first["severity_rank"] != "" and first["real_scar"] != ""
    assert float(first["severity_rank"]) >= 0 and float(first["real_scar"]) >= 0
    net, cfg, ckpt = load_checkpoint(path)
    summary = metadata(net, cfg, ckpt["step"], stages=checkpoint_stages(ckpt))["smpvision.training_data"]
    assert "2 level pairs per step" in summary and "CC BY 4.0" in summary


def test_separate_density_decoder_keeps_the_count_out_of_the_backbone(tmp_path: Path) -> None:
    """density_decoder=separate with density_backbone_grad=0: the density loss trains its own decoder
    and leaves the backbone (shared with the zones) alone; a grad of 1 lets it through again."""
    from training.train import build_model

    x = preprocess(torch.randint(0, 256, (1, 48, 40, 3), dtype=torch.uint8))
    for g, reaches in ((0.0, False), (1.0, True)):
        net = build_model(tiny_config(tmp_path, extra=("model.density_decoder=separate",
                                                       f"model.density_backbone_grad={g}")))  # fmt: skip
        net(x)["density"].sum().backward()
        backbone = sum(float(p.grad.abs().sum()) for p in net.features.parameters() if p.grad is not None)
        own = sum(float(p.grad.abs().sum()) for p in net.density_lateral.parameters())
        assert (backbone > 0) == reaches and own > 0
        assert all(p.grad is None for p in net.zones_head.parameters())  # zones play no part in it
    with pytest.raises(ValueError, match="density_decoder"):
        build_model(tiny_config(tmp_path, extra=("model.density_decoder=twin",)))


def test_init_from_a_shared_checkpoint_starts_a_separate_decoder_where_it_stopped(tmp_path: Path) -> None:
    """init_from: another run's weights (the density decoder copied from the shared one, so outputs are
    unchanged), its Adam moments matched by name, its step, and a new stage for the fine-tune."""
    from training.train import build_model, fit, init_from_checkpoint, load_checkpoint

    first = fit(tiny_config(tmp_path / "a", steps=2))
    old, _, _ = load_checkpoint(first)
    separate = ("model.density_decoder=separate", "model.density_backbone_grad=0")
    net = build_model(tiny_config(tmp_path / "b", extra=separate))
    opt = torch.optim.AdamW(net.parameters())
    init_from_checkpoint(net, opt, first)
    x = preprocess(torch.randint(0, 256, (1, 40, 40, 3), dtype=torch.uint8))
    old.eval(), net.eval()
    with torch.no_grad():
        a, b = old(x, probabilities=True), net(x, probabilities=True)
    torch.testing.assert_close(a["density"], b["density"])
    torch.testing.assert_close(a["zones"], b["zones"])
    params = dict(net.named_parameters())
    moments = opt.state[params["density_lateral.0.weight"]]["exp_avg"]
    torch.testing.assert_close(moments, opt.state[params["lateral.0.weight"]]["exp_avg"])
    assert float(moments.abs().sum()) > 0  # the old run's moments, not a fresh start

    path = fit(tiny_config(tmp_path / "b", steps=4, extra=(f"init_from={first}", "data.closeup_fraction=0.6",
                                                            "model.density_decoder=separate")))  # fmt: skip
    _, cfg_b, ckpt = load_checkpoint(path)
    assert ckpt["step"] == 4 and cfg_b.model.density_decoder == "separate"
    assert [(s["from_step"], s["to_step"]) for s in ckpt["stages"]] == [(0, 2), (2, 4)]
    with pytest.raises(ValueError, match="another kind of network"):
        init_from_checkpoint(build_model(tiny_config(tmp_path, extra=("model.relative_density=true",))),
                             torch.optim.AdamW(net.parameters()), first)  # fmt: skip


def test_restart_schedule_warms_up_again_and_counts_its_budget_from_its_own_start(tmp_path: Path) -> None:
    """optim.restart_schedule with init_from: the fine-tune's LR warms up from its own first step and its
    steps count from there (also when it is resumed); without it the other run's schedule goes on."""
    from training.train import fit, load_checkpoint

    def lrs(run: Path) -> dict[int, float]:
        header, *rows = (run / "metrics.csv").read_text().splitlines()
        cols = header.split(",")
        out = {}
        for row in rows:
            r = dict(zip(cols, row.split(","), strict=False))
            if r["lr"]:
                out[int(r["step"])] = float(r["lr"])
        return out

    first = fit(tiny_config(tmp_path / "a", steps=2))
    warm = ("optim.warmup_steps=2", "optim.lr=0.01", f"init_from={first}")
    fresh = tmp_path / "fresh"
    path = fit(tiny_config(fresh, steps=3, extra=(*warm, "optim.restart_schedule=true")))
    assert load_checkpoint(path)[2]["step"] == 5  # 3 steps of its own after the other run's 2
    assert lrs(fresh)[3] == pytest.approx(0.01 / 2)  # warm-up step 1 of 2, at the logged step 3
    fit(tiny_config(fresh, steps=4, extra=(*warm, "optim.restart_schedule=true")))  # resumed
    assert load_checkpoint(path)[2]["step"] == 6  # the budget still counts from the fine-tune's start
    carried = tmp_path / "carried"
    path = fit(tiny_config(carried, steps=3, extra=warm))
    assert load_checkpoint(path)[2]["step"] == 3  # continues the other run: one more step
    assert lrs(carried)[3] < 0.01 / 2  # past its warm-up, in its cosine


@pytest.mark.parametrize("part", ["density", "zones_decoder"])
def test_train_only_leaves_everything_else_bit_identical(tmp_path: Path, part: str) -> None:
    """optim.train_only=density / zones_decoder: that part learns (its BatchNorm statistics too), every
    other tensor of the checkpoint (backbone, the other decoder, their BatchNorm statistics) is unchanged,
    and the stage says so; a shared decoder or another part name is refused."""
    from training.train import _TRAINABLE_PARTS, fit, restrict_trainable

    separate = ("model.density_decoder=separate", "model.density_backbone_grad=0")
    first = fit(tiny_config(tmp_path / "a", steps=2, extra=separate))
    tuned = fit(tiny_config(tmp_path / "b", steps=4, extra=(*separate, f"init_from={first}",
                                                            f"optim.train_only={part}")))  # fmt: skip
    before = torch.load(first, weights_only=False)["model"]
    ckpt = torch.load(tuned, weights_only=False)
    changed = {k for k in before if not torch.equal(before[k], ckpt["model"][k])}
    assert changed and all(k.startswith(_TRAINABLE_PARTS[part]) for k in changed)
    assert any("running_mean" in k for k in changed)  # the trained part's BatchNorm still adapts
    head = {"density": "density_head.", "zones_decoder": "zones_head."}[part]
    assert any(k.startswith(head) for k in changed)  # its head learns too
    assert "train_only" not in ckpt["stages"][0] and ckpt["stages"][-1]["train_only"] == part
    shared = create_model("mobilenet_v3_small_fpn", width=8)
    with pytest.raises(ValueError, match="density_decoder=separate"):
        restrict_trainable(shared, part)
    with pytest.raises(ValueError, match="train_only"):
        restrict_trainable(shared, "zones")


def test_zones_and_tail_trains_the_backbone_tail_and_keeps_the_count(tmp_path: Path) -> None:
    """model.density_tail + optim.train_only=zones_and_tail from a checkpoint without a tail: the density
    branch's copy starts as the backbone's last layers and stays so, the density output is bit-identical,
    and only the zones decoder and the shared tail (layers tail_start..) change."""
    from training.train import build_model, fit, load_checkpoint, restrict_trainable

    separate = ("model.density_decoder=separate", "model.density_backbone_grad=0")
    first = fit(tiny_config(tmp_path / "a", steps=2, extra=separate))
    tail = (*separate, "model.density_tail=4", f"init_from={first}", "optim.train_only=zones_and_tail")
    tuned = fit(tiny_config(tmp_path / "b", steps=4, extra=tail))
    old, _, _ = load_checkpoint(first)
    new, _, _ = load_checkpoint(tuned)
    before, after = old.state_dict(), new.state_dict()
    first_tail = new.tail_start
    assert first_tail == len(new.features) - 4
    tail_layers = tuple(f"features.{i}." for i in range(first_tail, len(new.features)))
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    zones_part = ("lateral.", "smooth.", "zones_head.", *tail_layers)
    assert changed and all(k.startswith(zones_part) for k in changed)
    assert any(k.startswith(tail_layers) for k in changed)  # the shared tail learnt
    for k, v in after.items():
        if k.startswith("density_tail."):
            torch.testing.assert_close(v, before["features." + k[len("density_tail.") :]], rtol=0, atol=0)
    x = preprocess(torch.randint(0, 256, (1, 48, 56, 3), dtype=torch.uint8))
    old.eval(), new.eval()
    with torch.no_grad():
        a, b = old(x, probabilities=True), new(x, probabilities=True)
    torch.testing.assert_close(a["density"], b["density"], rtol=0, atol=0)
    assert not torch.equal(a["zones"], b["zones"])
    no_tail = build_model(tiny_config(tmp_path / "c", extra=separate))
    with pytest.raises(ValueError, match="density_tail"):
        restrict_trainable(no_tail, "zones_and_tail")
    with pytest.raises(ValueError, match="density_decoder=separate"):
        build_model(tiny_config(tmp_path / "c", extra=("model.density_tail=4",)))


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path: Path) -> None:
    """The same train command under torchrun with 2 processes (gloo) runs, agrees on the stop step and
    writes one checkpoint."""
    args = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "smpvision.cli",
        "train",
        "--config",
        str(ROOT / "configs/train_cpu.yaml"),
        *TINY,
        "optim.steps=3",
        f"out_dir={tmp_path}",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert torch.load(tmp_path / "last.pt", weights_only=False)["step"] == 3


def test_density_teacher_replaces_the_hair_points_with_its_map(tmp_path: Path, render_sample) -> None:
    from training.teacher import DensityTeacher, teach
    from training.train import fit

    teacher = DensityTeacher(ROOT / "smpvision/models/smpvision-zones.onnx")
    image = torch.from_numpy(render_sample(3, size=64, kind="closeup").image)[None].repeat(2, 1, 1, 1)
    batch = {"image": image, "hairs": torch.zeros(2, 64, 64), "has_hairs": torch.tensor([0.0, 1.0])}
    taught = teach(batch, teacher)
    assert taught["hairs"].shape == (2, 64, 64) and (taught["hairs"] >= 0).all()
    assert float(taught["hairs"][0].sum()) > 0 and torch.equal(taught["hairs"][0], taught["hairs"][1])
    assert taught["has_hairs"].tolist() == [1.0, 1.0]  # the teacher's count is known for every scene
    # a run with a teacher trains and records it in its config
    path = fit(tiny_config(tmp_path, steps=2, extra=(f"loss.density_teacher={teacher.path}",)))
    assert torch.load(path, weights_only=False)["config"]["loss"]["density_teacher"] == str(teacher.path)
    with pytest.raises(FileNotFoundError, match="density_teacher"):
        DensityTeacher(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="density_teacher does nothing"):  # frozen density: refused at once
        both = (f"loss.density_teacher={teacher.path}", "optim.train_only=zones_decoder")
        fit(tiny_config(tmp_path / "z", extra=both))
    # averaged over flips, the map of a flipped photo is the flipped map
    four = DensityTeacher(teacher.path, flips=4)
    assert torch.allclose(torch.flip(four(torch.flip(image, [2])), [2]), four(image), atol=1e-6)
    with pytest.raises(ValueError, match="1, 2 or 4"):
        DensityTeacher(teacher.path, flips=3)
