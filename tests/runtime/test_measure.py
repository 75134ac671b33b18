"""Measurement and results: fields, warm-up/runs accounting, schema checks, partial results."""

from __future__ import annotations

import json
import shutil

import pytest

from todm.errors import DataError, DeviceError
from todm.runtime.bench import bench
from todm.runtime.measure import run_benchmark
from todm.runtime.results import SCHEMA_NAME, aggregate, format_table, read_results, write_results


def test_offline_and_streaming_results(synthetic_bundle, small_corpus):
    off = run_benchmark(synthetic_bundle, small_corpus / "test.jsonl", runs=2, warmup=1)
    st = run_benchmark(synthetic_bundle, small_corpus / "test.jsonl", mode="streaming", runs=2, warmup=0, feed_ms=50)
    for res in (off, st):
        assert res["schema"] == SCHEMA_NAME and res["status"] == "complete"
        assert [len(u["compute_s"]) for u in res["utterances"]] == [2, 2, 2]
        for u in res["utterances"]:
            assert u["chunks"] == len(u["chunk_ms"]) > 0
            assert u["backend_s"] + u["features_s"] <= sum(u["compute_s"]) * 1.05
        a = res["aggregate"]
        assert len(a["rtf_per_run"]) == 2 and a["chunk_latency_ms"]["n"] == sum(u["chunks"] for u in res["utterances"])
        assert a["wer"] is not None and set(a["per_voice"]) == {u["voice"] for u in res["utterances"]}
        assert res["environment"]["runtimes"]["onnxruntime"] and res["environment"]["threads"] == 1
    # words do not depend on how the audio arrives
    assert [u["hyp"] for u in off["utterances"]] == [u["hyp"] for u in st["utterances"]]
    assert "first_partial_latency_ms" not in off["aggregate"] and st["aggregate"]["final_latency_ms"]["n"] == 3
    assert "chunk latency" in format_table(st) and "first partial" in format_table(st)


def test_bad_arguments(synthetic_bundle, small_corpus, tmp_path):
    with pytest.raises(DataError, match="mode 'batch'"):
        run_benchmark(synthetic_bundle, small_corpus / "test.jsonl", mode="batch")
    with pytest.raises(DataError, match="runs must be >= 1"):
        run_benchmark(synthetic_bundle, small_corpus / "test.jsonl", runs=0)
    (tmp_path / "x.json").write_text(json.dumps({"schema": "other"}))
    with pytest.raises(DataError, match="not a todm.bench.results v1"):
        read_results(tmp_path / "x.json")


def test_device_side_error_keeps_what_was_measured(synthetic_bundle, small_corpus, tmp_path):
    # the second utterance's audio is gone: the worker fails there, after measuring the first
    corpus = tmp_path / "c"
    shutil.copytree(small_corpus, corpus)
    lines = (corpus / "test.jsonl").read_text().splitlines()
    (corpus / json.loads(lines[1])["audio"]).unlink()
    out = tmp_path / "res.json"
    with pytest.raises(DeviceError, match="after 1 of 3 utterances.*kept in"):
        bench(synthetic_bundle, corpus / "test.jsonl", out=out, runs=1, warmup=0)
    kept = read_results(out)
    assert kept["status"] == "partial" and [u["id"] for u in kept["utterances"]] == [json.loads(lines[0])["id"]]


def test_aggregate_of_a_subset_and_atomic_write(tmp_path):
    u = {"duration": 2.0, "compute_s": [0.2, 0.4], "chunk_ms": [1.0, 3.0], "ref": "one two", "hyp": "one",
         "voice": "v", "features_s": 0.1, "backend_s": 0.3, "search_s": 0.1}  # fmt: skip
    a = aggregate([u], runs=2)
    assert a["rtf_per_run"] == [0.1, 0.2] and a["rtf"] == pytest.approx(0.15)
    assert a["wer"] == 0.5 and a["time_split"]["harness_fraction"] == pytest.approx(0.2 / 0.6, abs=1e-3)
    p = write_results(tmp_path / "r.json", {"schema": SCHEMA_NAME, "schema_version": 1, "aggregate": a})
    assert read_results(p)["aggregate"] == a and not list(tmp_path.glob(".r.json.*"))
