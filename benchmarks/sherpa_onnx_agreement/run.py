"""How closely sherpa-onnx, loading todm's exports unchanged, matches eager PyTorch.

    .venv/bin/python benchmarks/sherpa_onnx_agreement/run.py \
        --checkpoint EXP/checkpoints/step-3000.pt --tokens EXP/tokenizer/tokens.txt \
        --spec L4-D96-F384x4-H4x4 --manifest CORPUS/test.jsonl --limit 200 --out result.json

Four decoders per utterance, all greedy with at most one symbol per frame (sherpa-onnx's
rule):
- ``eager``: PyTorch on todm's own fbank (samples scaled to the int16 range, as Kaldi does);
- ``eager_on_sherpa_fbank``: PyTorch on kaldi-native-fbank run as sherpa-onnx runs it
  (samples in [-1, 1]) plus the export's ``2 ln 32768`` offset: this isolates the front
  ends' one difference, the float-epsilon floor on mel energies, which sits 32768**2
  higher in sherpa's scale;
- ``sherpa_offline``: ``OfflineRecognizer`` on the bundle's ``sherpa-onnx/`` set;
- ``sherpa_streaming``: ``OnlineRecognizer`` on ``sherpa-onnx-streaming/``, with 0.3 s of
  silence appended and the stream finished (it decodes whole chunks only);
- ``eager_as_streamed``: PyTorch on sherpa-onnx's fbank (as above) of that same padded
  audio, cut to the frames the streaming recognizer consumed: what it should say.
Reported: WER/CER of each against the references, and how many transcripts each shares
with ``eager``, with ``eager_on_sherpa_fbank`` and (streaming) with ``eager_as_streamed``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

TAIL_SECONDS = 0.3


def sherpa_style_fbank(samples: np.ndarray, settings) -> np.ndarray:
    """kaldi-native-fbank with sherpa-onnx's options and its [-1, 1] samples."""
    import kaldi_native_fbank as knf

    o = knf.FbankOptions()
    o.frame_opts.dither = 0.0
    o.frame_opts.snip_edges = settings.snip_edges
    o.frame_opts.samp_freq = settings.sample_rate
    o.mel_opts.num_bins = settings.num_mel_bins
    o.mel_opts.low_freq = settings.low_freq
    o.mel_opts.high_freq = settings.high_freq
    fb = knf.OnlineFbank(o)
    fb.accept_waveform(settings.sample_rate, samples.tolist())
    fb.input_finished()
    return np.stack([fb.get_frame(i) for i in range(fb.num_frames_ready)]).astype(np.float32)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--tokens", required=True)
    p.add_argument("--spec", default="largest")
    p.add_argument("--manifest", required=True)
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--work", default="/tmp/todm-sherpa-agreement")
    p.add_argument("--out")
    args = p.parse_args()

    import sherpa_onnx
    import torch

    from todm.bundle import read_tokens
    from todm.data.audio import load_audio
    from todm.data.fbank import compute_fbank, num_frames
    from todm.data.manifest import read_manifest
    from todm.data.tokenizer import tokens_to_text
    from todm.export import export_bundle
    from todm.runtime.results import error_rates
    from todm.supernet.decode import greedy_search
    from todm.supernet.slicing import slice_subnet

    torch.set_num_threads(1)
    model = slice_subnet(Path(args.checkpoint), args.spec)
    meta = model.meta
    tokens = read_tokens(Path(args.tokens))
    bundle = export_bundle(model, "onnx", Path(args.work) / "bundle", tokens)
    offset = 2.0 * math.log(meta.features.input_scale)

    def recognizer(kind: str):
        d = bundle / ("sherpa-onnx" if kind == "offline" else "sherpa-onnx-streaming")
        cls = sherpa_onnx.OfflineRecognizer if kind == "offline" else sherpa_onnx.OnlineRecognizer
        return cls.from_transducer(encoder=str(d / "encoder.onnx"), decoder=str(d / "decoder.onnx"),
                                   joiner=str(d / "joiner.onnx"), tokens=str(bundle / "tokens.txt"),
                                   num_threads=1, decoding_method="greedy_search")  # fmt: skip

    offline, online = recognizer("offline"), recognizer("online")

    @torch.no_grad()
    def eager(feats: np.ndarray) -> str:
        f = torch.from_numpy(feats)[None]
        enc, lens = model.encode(f, torch.tensor([f.shape[1]]))
        ids = greedy_search(enc[0, : int(lens[0])], model.decoder, model.joiner, meta.blank_id, meta.context_size,
                            max_symbols_per_frame=1)  # fmt: skip
        return tokens_to_text(tokens[i] for i in ids)

    def sherpa_offline(x: np.ndarray) -> str:
        s = offline.create_stream()
        s.accept_waveform(meta.features.sample_rate, x)
        offline.decode_stream(s)
        return " ".join(s.result.text.split())

    def with_tail(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, np.zeros(int(TAIL_SECONDS * meta.features.sample_rate), np.float32)])

    def streamed_frames(num_samples: int) -> int:
        # sherpa-onnx runs a chunk while more than T frames are ready, then stops
        chunks = -(-(num_frames(num_samples, meta.features) - meta.chunk_input_frames) // meta.chunk_shift_frames)
        return (chunks - 1) * meta.chunk_shift_frames + meta.chunk_input_frames

    def sherpa_streaming(x: np.ndarray) -> str:
        s = online.create_stream()
        s.accept_waveform(meta.features.sample_rate, with_tail(x))
        s.input_finished()
        while online.is_ready(s):
            online.decode_stream(s)
        return " ".join(online.get_result(s).split())

    utts = read_manifest(Path(args.manifest))[: args.limit]
    names = ("eager", "eager_on_sherpa_fbank", "sherpa_offline", "sherpa_streaming", "eager_as_streamed")
    hyps: dict[str, list[str]] = {n: [] for n in names}
    floored = total = 0
    t0 = time.time()
    for u in utts:
        x = load_audio(u.audio)
        ours, theirs = compute_fbank(x, meta.features), sherpa_style_fbank(x, meta.features)
        floor_bins = np.abs(ours - (theirs + offset)) > 1e-2
        floored += int(floor_bins.sum())
        total += ours.size
        hyps["eager"].append(eager(ours))
        hyps["eager_on_sherpa_fbank"].append(eager(theirs + offset))
        hyps["sherpa_offline"].append(sherpa_offline(x))
        hyps["sherpa_streaming"].append(sherpa_streaming(x))
        padded = with_tail(x)
        hyps["eager_as_streamed"].append(eager(sherpa_style_fbank(padded, meta.features)[: streamed_frames(len(padded))]
                                               + offset))  # fmt: skip
    refs = [u.text for u in utts]

    def same(a: str, b: str) -> int:
        return sum(x == y for x, y in zip(hyps[a], hyps[b]))

    result = {
        "checkpoint": args.checkpoint, "subnet": meta.subnet_id, "manifest": args.manifest,
        "utterances": len(utts), "seconds": round(time.time() - t0, 1),
        "fbank_bins_differing": floored, "fbank_bins": total,
        "rates": {n: error_rates(refs, hyps[n]) for n in names},
        "same_as_eager": {n: same(n, "eager") for n in names[1:4]},
        "same_as_eager_on_sherpa_fbank": {"sherpa_offline": same("sherpa_offline", "eager_on_sherpa_fbank")},
        "same_as_eager_as_streamed": {"sherpa_streaming": same("sherpa_streaming", "eager_as_streamed")},
        "command": " ".join(sys.argv),
    }  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
