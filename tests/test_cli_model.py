"""The model verbs (train, export, evaluate): usage errors, the missing-extra message, and an end-to-end
export + evaluate on a tiny checkpoint when torch is installed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from smpvision.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_train_without_torch_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    assert main(["train", "--config", str(ROOT / "configs/train_cpu.yaml")]) == 2
    assert "pip install -e '.[train]'" in capsys.readouterr().err


_EXPORT_EXISTING = ["export", "--checkpoint", "pyproject.toml", "--out", "m.onnx"]  # a file that exists


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["export", "--checkpoint", "missing.pt", "--out", "m.onnx"], "train first"),
        (["export", "--checkpoint", "missing.pt", "--out", "m.txt"], "must end in .onnx"),
        ([*_EXPORT_EXISTING, "--zone-bias", "0,1"], "needs 5 finite values"),
        ([*_EXPORT_EXISTING, "--zone-bias", "0,0,nan,0,0"], "needs 5 finite values"),
        ([*_EXPORT_EXISTING, "--zone-bias", "a,b"], "comma-separated"),
        ([*_EXPORT_EXISTING, "--zone-bias", "no.json"], "not found"),
        ([*_EXPORT_EXISTING, "--density-from", "missing.pt"], "--density-from missing.pt not found"),
        (["evaluate", "--rendered", "-1"], "--rendered must be >= 0"),
        (["evaluate", "--real", "no/such/dir"], "is not a folder"),
    ],
)
def test_model_verb_usage_errors(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # pyproject.toml stands in for a checkpoint that exists
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and fragment in capsys.readouterr().err


def test_train_rejects_unknown_config_keys(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    with pytest.raises(SystemExit):
        main(["train", "--config", str(ROOT / "configs/train_cpu.yaml"), "optim.nope=1"])
    assert "unknown key" in capsys.readouterr().err


def test_train_names_a_missing_init_from_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    missing = tmp_path / "nowhere.pt"
    with pytest.raises(SystemExit):
        main(["train", "--config", str(ROOT / "configs/train_cpu.yaml"), f"out_dir={tmp_path}",
              f"init_from={missing}"])  # fmt: skip
    assert f"init_from={missing}: no such checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "last.pt").exists()


@pytest.mark.slow
def test_train_export_evaluate_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    tiny = ["data.size=64", "data.workers=0", "model.width=8", "optim.batch_size=2", "optim.steps=2",
            "optim.warmup_steps=1", "val_samples=1", "threads=1", f"out_dir={tmp_path / 'run'}"]  # fmt: skip
    assert main(["train", "--config", str(ROOT / "configs/train_cpu.yaml"), *tiny]) == 0
    onnx_path = tmp_path / "tiny.onnx"
    assert main(["export", "--checkpoint", str(tmp_path / "run/last.pt"), "--out", str(onnx_path)]) == 0
    assert "onnx checker passed" in capsys.readouterr().out
    out = tmp_path / "eval.json"
    argv = ["evaluate", "--model", str(onnx_path), "--rendered", "3", "--size", "64", "--out", str(out)]
    assert main(argv) == 0
    results = json.loads(out.read_text())["rendered_heldout"]
    assert results["all"]["n"] == 3 and set(results["all"]["per_class"]) >= {"hair", "bald"}
    assert "mIoU(thinning,bald,scar)" in capsys.readouterr().out
    # 3 held-out scenes are all whole-head photos, so there is no close-up runtime pass to report
    assert not any(k.startswith("rendered_closeups") for k in json.loads(out.read_text()))
