"""Evaluation of the tiny trained supernet: WER/CER per subnet and per voice, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from todm.cli import main as todm_main
from todm.data.manifest import read_manifest
from todm.supernet.evaluate import error_rates, evaluate, format_results


def test_error_rates_on_known_strings() -> None:
    r = error_rates(["one two three", "four five"], ["one too three", "four five six"])
    assert r["wer"] == pytest.approx(100 * 2 / 5)  # one substitution, one insertion
    assert r["words"] == 5
    assert 0 < r["cer"] < r["wer"]
    assert error_rates(["a b"], ["a b"])["wer"] == 0.0


def test_largest_subnet_recognizes_digits(tiny_experiment: Path, tiny_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    res = evaluate(tiny_experiment / "checkpoints" / "last.pt", tiny_corpus / "test.jsonl",
                   ["largest", "smallest"], "greedy", out=out)  # fmt: skip
    assert json.loads(out.read_text()) == res
    (largest_id, largest), (smallest_id, smallest) = res["subnets"].items()
    assert largest["name"] == "largest" and smallest["name"] == "smallest"
    assert largest["params"] > smallest["params"]
    # The tiny recipe's promise (configs/tiny-digits.yaml): clearly better than chance.
    assert largest["wer"] < 40.0, format_results(res)
    assert largest["cer"] < largest["wer"] + 1e-9 or largest["wer"] == 0
    utts = read_manifest(tiny_corpus / "test.jsonl")
    assert set(largest["per_voice"]) == {u.voice for u in utts}
    assert sum(v["words"] for v in largest["per_voice"].values()) == largest["words"]
    assert largest["examples"][0]["ref"] == utts[0].text
    # per-utterance counts, in manifest order, add up to the corpus rates
    per_utt = largest["utterances"]
    assert [u["id"] for u in per_utt] == [u.id for u in utts]
    assert sum(u["words"] for u in per_utt) == largest["words"]
    assert 100 * sum(u["word_errors"] for u in per_utt) / largest["words"] == pytest.approx(largest["wer"], abs=0.01)
    table = format_results(res)
    assert largest_id in table and smallest_id in table


def test_ctc_and_beam_decoding(tiny_experiment: Path, tiny_corpus: Path) -> None:
    ckpt = tiny_experiment / "checkpoints" / "last.pt"
    manifest = tiny_corpus / "test.jsonl"
    greedy = evaluate(ckpt, manifest, ["largest"], "greedy", max_utts=12)
    beam = evaluate(ckpt, manifest, ["largest"], "beam", beam=4, max_utts=12)
    ctc = evaluate(ckpt, manifest, ["largest"], "ctc", max_utts=12)
    (g,), (b,), (c,) = (list(r["subnets"].values()) for r in (greedy, beam, ctc))
    # Decoding utterances together (the default) gives what decoding each alone gives.
    for method, res in (("greedy", greedy), ("beam", beam), ("ctc", ctc)):
        alone = evaluate(ckpt, manifest, ["largest"], method, beam=4, max_utts=12, max_batch_frames=1)
        assert [u["hyp"] for u in next(iter(alone["subnets"].values()))["utterances"]] == \
            [u["hyp"] for u in next(iter(res["subnets"].values()))["utterances"]], method
    assert g["words"] == b["words"] == c["words"] == sum(len(u.text.split()) for u in read_manifest(manifest)[:12])
    assert g["wer"] < 40.0
    # The beam may emit several symbols per frame as greedy does, so it is no worse than
    # greedy beyond a word or two of the 12 utterances.
    assert b["wer"] <= g["wer"] + 5.0
    assert c["wer"] < 100.0  # the CTC head learned too (ctc_weight in the recipe)


def test_cli_eval_prints_a_table_and_writes_json(tiny_experiment: Path, tiny_corpus: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    out = tmp_path / "r.json"
    rc = todm_main(["eval", "--checkpoint", str(tiny_experiment / "checkpoints" / "last.pt"),
                    "--manifest", str(tiny_corpus / "test-unseen-voice.jsonl"), "--subnet", "smallest",
                    "--max-utts", "6", "--out", str(out)])  # fmt: skip
    assert rc == 0
    printed = capsys.readouterr().out
    res = json.loads(out.read_text())
    (sid,) = res["subnets"]
    assert sid in printed and "WER" in printed
    assert todm_main(["eval", "--checkpoint", str(tmp_path / "none.pt"), "--manifest",
                      str(tiny_corpus / "test.jsonl")]) == 2  # fmt: skip
    assert "none.pt" in capsys.readouterr().err


def test_unknown_subnet_and_method_are_config_errors(tiny_experiment: Path, tiny_corpus: Path) -> None:
    from todm.errors import ConfigError

    ckpt = tiny_experiment / "checkpoints" / "last.pt"
    with pytest.raises(ConfigError, match="method"):
        evaluate(ckpt, tiny_corpus / "test.jsonl", method="viterbi")
    with pytest.raises(ConfigError):
        evaluate(ckpt, tiny_corpus / "test.jsonl", ["L9-D999-F1x9-H1x9"], max_utts=1)


def test_an_lstm_predictor_checkpoint_evaluates_with_every_method(tiny_corpus: Path, tmp_path: Path) -> None:
    from todm.supernet.testing import tiny_train_config
    from todm.supernet.train import train

    cfg = tiny_train_config(tiny_corpus, tmp_path / "lstm", max_steps=2)
    cfg.model.predictor, cfg.num_threads = "lstm", 1
    ckpt = train(cfg, quiet=True) / "checkpoints" / "last.pt"
    manifest = tiny_corpus / "test.jsonl"
    res = {m: evaluate(ckpt, manifest, ["largest"], m, beam=1, max_utts=3) for m in ("greedy", "beam", "ctc")}
    hyps = {m: [u["hyp"] for u in next(iter(r["subnets"].values()))["utterances"]] for m, r in res.items()}
    assert all(len(h) == 3 for h in hyps.values())
    assert hyps["beam"] == hyps["greedy"]  # a beam of one is the greedy search, whatever the predictor


def test_cli_eval_compares_with_an_earlier_result(tiny_experiment: Path, tiny_corpus: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    ckpt = str(tiny_experiment / "checkpoints" / "last.pt")
    manifest = str(tiny_corpus / "test.jsonl")
    base = tmp_path / "smallest.json"
    common = ["eval", "--checkpoint", ckpt, "--max-utts", "10"]
    assert todm_main([*common, "--manifest", manifest, "--subnet", "smallest", "--out", str(base)]) == 0
    capsys.readouterr()
    assert todm_main([*common, "--manifest", manifest, "--subnet", "largest", "--compare-to", str(base)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if "95% interval" in line)
    sid, wer, base_wer, ratio, low, high = lines[header + 1].replace("[", "").replace("]", "").replace(",", "").split()
    smallest = json.loads(base.read_text())
    assert float(base_wer) == pytest.approx(next(iter(smallest["subnets"].values()))["wer"], abs=0.01)
    assert float(base_wer) > 0  # else there is no ratio to check: the smallest tiny model always errs
    assert float(ratio) == pytest.approx(float(wer) / float(base_wer), abs=2e-3)
    assert float(low) <= float(ratio) <= float(high)
    # another manifest, or a file that is not a result: clear errors naming the file, exit 2
    other = ["--manifest", str(tiny_corpus / "test-unseen-voice.jsonl"), "--subnet", "largest"]
    assert todm_main([*common, *other, "--compare-to", str(base)]) == 2
    assert "smallest.json" in capsys.readouterr().err
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert todm_main([*common, *other, "--compare-to", str(junk)]) == 2
    assert "junk.json: not a readable eval result" in capsys.readouterr().err
    junk.write_text('{"wer": 3}')
    assert todm_main([*common, *other, "--compare-to", str(junk)]) == 2
    assert "junk.json: not a readable eval result" in capsys.readouterr().err
