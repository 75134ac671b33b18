"""The same ONNX export decoded by sherpa-onnx and by todm's harness, side by side.

    .venv/bin/python benchmarks/harness_vs_sherpa/run.py --manifest CORPUS/test.jsonl --out results.json
    .venv/bin/python benchmarks/harness_vs_sherpa/run.py --checkpoint EXP/checkpoints/last.pt \
        --tokens EXP/tokenizer/tokens.txt --manifest CORPUS/test.jsonl

Without ``--checkpoint`` the model is a realistic-size subnet (todm's default ModelConfig:
6 conformer layers, d_model 256, 500 tokens) with random weights: the timing is what a real
model of that size costs, and both decoders must still produce the same tokens.

sherpa-onnx runs the bundle's ``sherpa-onnx/`` set (whole-utterance encoder) with its
OfflineRecognizer and greedy search; todm runs the streaming graphs chunk by chunk with
its numpy greedy search (``Recognizer.transcribe``). Each utterance is decoded by both in
alternation, ``--runs`` times after one warm-up, on one thread; the figures are the sums
of per-utterance medians, features included on both sides.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path


def build_bundle(args, work: Path) -> Path:
    from todm.bundle import read_tokens
    from todm.export.bundle_writer import export_bundle
    from todm.supernet.slicing import slice_subnet

    if args.checkpoint:
        model = slice_subnet(args.checkpoint, args.spec)
        tokens = list(read_tokens(Path(args.tokens)))
    else:
        import torch

        from todm.supernet.model import Supernet
        from todm.supernet.model_config import ModelConfig

        torch.manual_seed(0)
        model = slice_subnet(Supernet(ModelConfig()), "largest")
        tokens = ["<blk>", "<unk>"] + [f"\u2581w{i}" if i % 3 == 0 else f"p{i}" for i in range(498)]
    return export_bundle(model, "onnx", work / "bundle", tokens)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--manifest", required=True)
    p.add_argument("--bundle", help="an existing ONNX bundle (else one is exported into --work)")
    p.add_argument("--checkpoint")
    p.add_argument("--tokens")
    p.add_argument("--spec", default="largest")
    p.add_argument("--work", default="/tmp/todm-harness-vs-sherpa")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--limit", type=int, default=12)
    p.add_argument("--out")
    args = p.parse_args()

    import numpy as np
    import sherpa_onnx

    from todm.data.audio import load_audio
    from todm.data.manifest import read_manifest
    from todm.runtime.recognizer import Recognizer

    bundle = Path(args.bundle) if args.bundle else build_bundle(args, Path(args.work))
    sd = bundle / "sherpa-onnx"
    sherpa = sherpa_onnx.OfflineRecognizer.from_transducer(
        encoder=str(sd / "encoder.onnx"), decoder=str(sd / "decoder.onnx"), joiner=str(sd / "joiner.onnx"),
        tokens=str(bundle / "tokens.txt"), num_threads=1, sample_rate=16000, feature_dim=80,
        decoding_method="greedy_search",
    )  # fmt: skip
    ours = Recognizer.from_bundle(bundle, num_threads=1)

    def run_sherpa(x):
        s = sherpa.create_stream()
        s.accept_waveform(16000, x)
        sherpa.decode_stream(s)
        return s.result.text.strip()

    import onnxruntime as ort

    from todm.data.fbank import compute_fbank
    from todm.runtime.decoding import TransducerGreedy, tokens_to_text

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    off_enc = ort.InferenceSession(str(sd / "encoder.onnx"), opts, providers=["CPUExecutionProvider"])
    m = ours.meta
    sherpa_features = dataclasses.replace(m.features, input_scale=1.0)

    def run_ours_on_sherpa_graph(x):
        # todm's front end and numpy search around the very graph sherpa-onnx runs, with its
        # search rule: that graph reads sherpa-onnx's front end (the fbank of samples in
        # [-1, 1]), and its offline greedy search emits at most one symbol per frame. Same
        # graph, same features, same rule: the transcripts must be sherpa's, so what is left
        # of the time ratio is the harness against sherpa-onnx's C++.
        f = compute_fbank(x, sherpa_features)[None]
        eo, el = off_enc.run(None, {"x": f, "x_lens": np.array([f.shape[1]], np.int64)})
        g = TransducerGreedy(ours._decoder, ours._joiner, m.blank_id, m.context_size, max_symbols_per_frame=1)
        g.advance(eo[0, : int(el[0])], 0)
        return tokens_to_text(g.best().tokens, ours.bundle.tokens)

    def run_ours(x):
        st = ours.decode_offline(x)
        return st.result.text, st.timers

    rows, tot_s, tot_o, tot_g = [], 0.0, 0.0, 0.0
    same_as_sherpa_utts = 0
    ours_wall = ours_inside = 0.0  # all measured runs: wall, and backend + features within it
    same_utts = words = same_words = 0
    audio_s = 0.0
    for u in read_manifest(args.manifest)[: args.limit]:
        x = load_audio(u.audio)
        audio_s += len(x) / 16000
        run_sherpa(x), run_ours(x), run_ours_on_sherpa_graph(x)  # warm-up
        ts, to, tg = [], [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            hs = run_sherpa(x)
            t1 = time.perf_counter()
            ho, timers = run_ours(x)
            t2 = time.perf_counter()
            ts.append(t1 - t0)
            to.append(t2 - t1)
            ours_wall += t2 - t1
            ours_inside += timers.backend + timers.features
            t3 = time.perf_counter()
            hg = run_ours_on_sherpa_graph(x)
            tg.append(time.perf_counter() - t3)
        tot_g += statistics.median(tg)
        same_as_sherpa_utts += hg == hs
        ms, mo = statistics.median(ts), statistics.median(to)
        tot_s, tot_o = tot_s + ms, tot_o + mo
        a, b = hs.split(), ho.split()
        words += max(len(a), len(b))
        same_words += sum(i == j for i, j in zip(a, b))
        same_utts += hs == ho
        rows.append({"id": u.id, "sherpa_ms": round(ms * 1000, 2), "todm_ms": round(mo * 1000, 2),
                     "sherpa": hs, "todm": ho})  # fmt: skip
    res = {
        "bundle": str(bundle), "subnet": ours.meta.subnet_id, "utterances": len(rows), "audio_s": round(audio_s, 2),
        "runs": args.runs, "sherpa_total_ms": round(tot_s * 1000, 1), "todm_total_ms": round(tot_o * 1000, 1),
        "latency_ratio_todm_over_sherpa": round(tot_o / tot_s, 3),
        "todm_on_sherpa_graph_total_ms": round(tot_g * 1000, 1),
        "latency_ratio_todm_on_sherpa_graph_over_sherpa": round(tot_g / tot_s, 3),
        "todm_on_sherpa_graph_identical_to_sherpa": f"{same_as_sherpa_utts}/{len(rows)}",
        "todm_harness_fraction": round(1 - ours_inside / ours_wall, 3) if ours_wall else None,
        "sherpa_rtf": round(tot_s / audio_s, 4), "todm_rtf": round(tot_o / audio_s, 4),
        "identical_transcripts": f"{same_utts}/{len(rows)}",
        "word_agreement": round(same_words / words, 4) if words else None, "words_compared": words,
        "sherpa_onnx": sherpa_onnx.__version__, "numpy": np.__version__, "per_utterance": rows,
    }  # fmt: skip
    text = json.dumps(res, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "per_utterance"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
