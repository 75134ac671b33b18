"""``todm data``: synthesize, import, check corpora; train tokenizers; feature statistics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="speech corpora: synthesize, import, check, tokenizer, stats",
                       description="Build and validate speech corpora (JSONL manifests + 16 kHz wav).")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True

    s = dsub.add_parser("synth", help="synthesize a corpus with espeak-ng and flite",
                        description="Synthesize train/dev/test/test-unseen-voice splits with real "
                        "TTS voices. Deterministic for a seed; re-running resumes.")
    s.add_argument("--out", type=Path, required=True, help="corpus directory")
    s.add_argument("--domain", default="open", choices=["open", "digits", "commands"],
                   help="open: fortunes prose; digits/commands: small vocabularies (default: open)")
    size = s.add_mutually_exclusive_group(required=True)
    size.add_argument("--hours", type=float, help="approximate total hours of audio")
    size.add_argument("--num-utts", type=int, help="total number of utterances")
    s.add_argument("--text", type=Path, help="text file to read sentences from (default: fortunes)")
    s.add_argument("--min-words", type=int, default=4)
    s.add_argument("--max-words", type=int, default=20)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=None, help="parallel workers (default: all cores)")
    s.add_argument("--noise-prob", type=float, default=0.0, help="fraction of utterances with noise")
    s.add_argument("--noise-snrs", type=float, nargs="+", default=[5.0, 10.0, 20.0], help="SNRs in dB")
    s.add_argument("--noise-dir", type=Path, help="folder of noise recordings (default: generated noise)")
    s.add_argument("--reverb-prob", type=float, default=0.0, help="fraction of utterances reverberated")
    s.add_argument("--voices", nargs="+", metavar="VOICE",
                   help="use only these voices (ids as `todm data voices` lists them)")
    s.add_argument("--heldout-accents", nargs="+", default=["en-029"], metavar="ACCENT",
                   help="espeak-ng accents heard only in test-unseen-voice (default: en-029)")
    s.add_argument("--heldout-flite", nargs="+", default=["awb"], metavar="VOICE",
                   help="flite voices heard only in test-unseen-voice (default: awb)")
    s.add_argument("--dev-fraction", type=float, default=0.05, help="share of utterances in dev (default 0.05)")
    s.add_argument("--test-fraction", type=float, default=0.05, help="share in test (default 0.05)")
    s.add_argument("--unseen-fraction", type=float, default=0.05,
                   help="share in test-unseen-voice (default 0.05)")  # fmt: skip
    s.add_argument("--exclude-text", nargs="+", type=Path, default=[], metavar="MANIFEST",
                   help="never use a sentence of these manifests (a further test set for a trained model)")  # fmt: skip
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_synth)

    v = dsub.add_parser("voices", help="list the synthesizer voices synth can use")
    v.set_defaults(func=_voices)

    imp = dsub.add_parser("import", help="import LibriSpeech-layout or JSONL corpora")
    isub = imp.add_subparsers(dest="import_kind", metavar="KIND")
    isub.required = True
    ls = isub.add_parser("librispeech", help="a LibriSpeech-layout tree (flac + *.trans.txt)")
    ls.add_argument("root", type=Path)
    ls.add_argument("--out", type=Path, required=True, help="manifest to write (.jsonl)")
    ls.add_argument("--quiet", action="store_true", help="no progress bar")
    ls.set_defaults(func=_import_librispeech)
    js = isub.add_parser("jsonl", help="a JSONL manifest with todm, lhotse or NeMo field names")
    js.add_argument("file", type=Path)
    js.add_argument("--out", type=Path, required=True, help="manifest to write (.jsonl)")
    js.set_defaults(func=_import_jsonl)

    c = dsub.add_parser("check", help="validate a manifest: every line, audio file and text",
                        description="Reports every problem as FILE:LINE: problem. Exit 1 if any.")
    c.add_argument("manifest", type=Path)
    c.add_argument("--skip-bad", action="store_true",
                   help="write the good lines to --cleaned and the rejects to --rejects; exit 0")
    c.add_argument("--cleaned", type=Path, help="cleaned manifest (default: MANIFEST.clean.jsonl)")
    c.add_argument("--rejects", type=Path, help="rejects with reasons (default: MANIFEST.rejects.jsonl)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=_check)

    t = dsub.add_parser("tokenizer", help="train a tokenizer on a manifest's text")
    t.add_argument("--manifest", type=Path, required=True)
    t.add_argument("--kind", choices=["bpe", "unigram", "char"], default="bpe")
    t.add_argument("--vocab-size", type=int, default=500, help="tokens incl. blank and unk (not for char)")
    t.add_argument("--out", type=Path, required=True, help="directory for tokens.txt and the model")
    t.set_defaults(func=_tokenizer)

    st = dsub.add_parser("stats", help="global fbank mean/std from a manifest (travels with the model)")
    st.add_argument("--manifest", type=Path, required=True)
    st.add_argument("--out", type=Path, required=True, help="JSON file to write")
    st.add_argument("--max-utts", type=int, default=2000, help="utterances to read at most")
    st.add_argument("--input-scale", type=float, default=32768.0,
                    help="the model's model.input_scale (32768, or 1.0 for sherpa-onnx's front end)")  # fmt: skip
    st.add_argument("--quiet", action="store_true", help="no progress bar")
    st.set_defaults(func=_stats)


def _synth(args: argparse.Namespace) -> int:
    import os

    from todm.data.synth import SynthConfig, format_summary, synthesize_corpus

    cfg = SynthConfig(
        out_dir=args.out, domain=args.domain, text_file=args.text, hours=args.hours,
        num_utts=args.num_utts, min_words=args.min_words, max_words=args.max_words,
        seed=args.seed, workers=args.workers or os.cpu_count() or 1, noise_prob=args.noise_prob,
        noise_snrs=tuple(args.noise_snrs), noise_dir=args.noise_dir, reverb_prob=args.reverb_prob,
        voices=tuple(args.voices) if args.voices else None,
        heldout_accents=tuple(args.heldout_accents), heldout_flite=tuple(args.heldout_flite),
        dev_fraction=args.dev_fraction, test_fraction=args.test_fraction,
        unseen_fraction=args.unseen_fraction, exclude_manifests=tuple(args.exclude_text), quiet=args.quiet,
    )  # fmt: skip
    print(format_summary(synthesize_corpus(cfg), args.out))
    return 0


def _voices(args: argparse.Namespace) -> int:
    from todm.data.voices import all_voices

    for voice in all_voices():
        print(f"{voice.id:<32} accent={voice.accent}")
    return 0


def _import_librispeech(args: argparse.Namespace) -> int:
    from todm.data.importers import import_librispeech

    utts = import_librispeech(args.root, args.out, progress=not args.quiet)
    print(f"{args.out}: {len(utts)} utterances, {sum(u.duration for u in utts) / 3600:.3f} h")
    return 0


def _import_jsonl(args: argparse.Namespace) -> int:
    from todm.data.importers import import_jsonl

    utts = import_jsonl(args.file, args.out)
    print(f"{args.out}: {len(utts)} utterances, {sum(u.duration for u in utts) / 3600:.3f} h")
    return 0


def _check(args: argparse.Namespace) -> int:
    from todm.data.check import check_manifest, write_check_outputs

    report = check_manifest(args.manifest, progress=not args.quiet)
    for _, _, msg in report.problems:
        print(msg, file=sys.stderr)
    sys.stderr.flush()
    print(f"{args.manifest}: {len(report.good)} good, {len(report.problems)} bad")
    if args.skip_bad:
        stem = str(args.manifest).removesuffix(".jsonl")
        cleaned = args.cleaned or Path(stem + ".clean.jsonl")
        rejects = args.rejects or Path(stem + ".rejects.jsonl")
        write_check_outputs(report, cleaned, rejects)
        print(f"wrote {cleaned} and {rejects}")
        return 0
    return 0 if report.ok else 1


def _tokenizer(args: argparse.Namespace) -> int:
    from todm.data.manifest import read_manifest
    from todm.data.tokenizer import train_tokenizer

    tok = train_tokenizer([u.text for u in read_manifest(args.manifest)], args.kind,
                          args.vocab_size, args.out)
    print(f"{args.out}: {tok.kind} tokenizer, {tok.vocab_size} tokens (blank id 0)")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from todm.bundle import FeatureSettings
    from todm.data.manifest import read_manifest
    from todm.data.stats import compute_feature_stats

    stats = compute_feature_stats(
        read_manifest(args.manifest), FeatureSettings(input_scale=args.input_scale), max_utts=args.max_utts,
        progress=not args.quiet,
    )
    stats.save(args.out)
    print(f"{args.out}: mean/std over {stats.num_frames} frames")
    return 0
