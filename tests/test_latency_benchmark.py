"""benchmarks/latency.py's rounds: each runtime timed several times in turned-round order, the figures
their median, so one noisy round cannot make the printed ratio."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import latency


def test_rounds_alternate_the_order_and_report_the_median(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    torch_rounds = iter([103.8, 27.9, 30.0])  # one slow round, as once measured

    def fake_child(kind: str, path: Path, threads: int, h: int, w: int, repeats: int) -> dict | None:
        calls.append(kind)
        if kind == "int8":
            return None  # a runtime that cannot run here is left out, as without torch
        ms = next(torch_rounds) if kind == "torch_eager" else 10.0
        return {"median_ms": ms, "p90_ms": ms + 1}

    monkeypatch.setattr(latency, "time_in_child", fake_child)
    kinds = {"fp32": Path("m.onnx"), "int8": Path("m.int8.onnx"), "torch_eager": Path("m.onnx")}
    row = latency.time_rounds(kinds, threads=2, h=8, w=8, repeats=1, rounds=3)
    forward, backward = ["fp32", "int8", "torch_eager"], ["torch_eager", "int8", "fp32"]
    assert calls == forward + backward + forward
    assert set(row) == {"fp32", "torch_eager"}
    torch = row["torch_eager"]
    assert torch["median_ms"] == 30.0 and torch["p90_ms"] == 31.0 and torch["rounds"] == 3
    assert (torch["round_min_ms"], torch["round_max_ms"]) == (27.9, 103.8)
    assert row["fp32"]["median_ms"] == 10.0
