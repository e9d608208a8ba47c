"""The `smpvision` console script: usage errors, help, and `synth` determinism."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from smpvision import __version__
from smpvision.annotations import AnnotatedFolder
from smpvision.cli import main


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--n", "0"], "--n must be at least 1"),
        (["--size", "32"], "--size must be between 64 and 4096"),
        (["--size", "5000"], "--size must be between 64 and 4096"),
        (["--closeup-fraction", "1.5"], "--closeup-fraction must be between 0 and 1"),
        (["--seed", "-1"], "--seed must be >= 0"),
        (["--kind", "sideways"], "invalid choice"),
        (["--n", "two"], "invalid int value"),
    ],
)
def test_synth_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["synth", "--out", str(tmp_path / "o"), *args])
    assert info.value.code == 2
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["synth", "--out", str(tmp_path / "f")])
    assert info.value.code == 2 and "not a folder" in capsys.readouterr().err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["synth", "--help"])
    assert info.value.code == 0
    assert "annotated-photo folder" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_synth_is_byte_identical(
    tmp_path: Path, render_sample: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["synth", "--n", "4", "--size", "128", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    summary = capsys.readouterr().out
    assert "wrote 4 samples" in summary and str(tmp_path / "a") in summary
    assert main([*args, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 3 * 4 + 1 and "contact_sheet.png" in a
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], f"{name} differs between two runs with the same seed"

    folder = AnnotatedFolder(tmp_path / "a")
    assert folder.names == [f"synth_3_{i:05d}" for i in range(4)]
    # Sample i is render_sample(seed=(K, i)): the CLI adds nothing of its own to the pixels.
    s = render_sample(seed=(3, 2), size=128, kind=None, closeup_fraction=0.3)
    loaded = folder.load("synth_3_00002")
    np.testing.assert_array_equal(loaded.image, s.image)
    np.testing.assert_array_equal(loaded.zones, s.zones)
    sheet = np.asarray(Image.open(tmp_path / "a" / "contact_sheet.png"))
    assert sheet.ndim == 3 and sheet.shape[2] == 3


def test_synth_kind_and_no_sheet(tmp_path: Path, render_sample: Callable[..., Any]) -> None:
    out = tmp_path / "c"
    args = ["synth", "--n", "2", "--size", "96", "--kind", "closeup", "--no-sheet", "-q", "--out", str(out)]
    assert main(args) == 0
    assert not (out / "contact_sheet.png").exists()
    assert all(s.label["view"]["kind"] == "closeup" for s in AnnotatedFolder(out))
