"""``todm export``: a subnet to a device bundle (ONNX, ExecuTorch or LiteRT)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="export a subnet to a device bundle (onnx | executorch | tflite)",
        description="Export one subnet (sliced from a supernet checkpoint, or an already sliced "
        "model) into a self-describing bundle directory: model files, tokens.txt and a manifest "
        "with metadata, provenance, parity results and sha256 of every file. Example: todm export "
        "--checkpoint exp/checkpoints/last.pt --subnet largest --target onnx "
        "--parity-manifest corpus/test.jsonl --out bundles/largest-onnx",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="supernet training checkpoint (needs --subnet)")
    src.add_argument("--model", type=Path, help="a model sliced by `todm slice` (.pt)")
    p.add_argument("--subnet", help="subnet id, 'largest' or 'smallest' (with --checkpoint)")
    p.add_argument("--target", required=True, choices=["onnx", "executorch", "tflite"])
    p.add_argument("--precision", default="fp32", choices=["fp32", "int8"])
    p.add_argument("--tokens", type=Path,
                   help="tokens.txt (default: <exp>/tokenizer/tokens.txt beside the checkpoint)")
    p.add_argument("--parity-manifest", type=Path,
                   help="JSONL manifest whose audio checks the export against eager PyTorch")
    p.add_argument("--parity-utterances", type=int, default=8, help="utterances of it to use (default 8)")
    p.add_argument("--allow-parity-failure", action="store_true",
                   help="record a failed parity check in the manifest instead of failing")
    p.add_argument("--no-delegate", action="store_true",
                   help="ExecuTorch: portable kernels instead of XNNPACK")
    p.add_argument("--out", type=Path, required=True, help="bundle directory to write")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from todm.cli import CLIError

    if args.checkpoint is not None and not args.subnet:
        raise CLIError("--checkpoint needs --subnet (an id, 'largest' or 'smallest')")
    if args.model is not None and args.subnet:
        raise CLIError("--subnet applies to --checkpoint; a --model is already one subnet")
    if args.no_delegate and args.target != "executorch":
        raise CLIError("--no-delegate applies to --target executorch only")
    if args.parity_utterances < 1:
        raise CLIError(f"--parity-utterances must be >= 1, got {args.parity_utterances}")
    src = args.checkpoint or args.model
    tokens_path = args.tokens
    if tokens_path is None:
        if args.checkpoint is None:
            raise CLIError("--model needs --tokens (the tokens.txt of the experiment it came from)")
        tokens_path = args.checkpoint.resolve().parent.parent / "tokenizer" / "tokens.txt"
    from todm.bundle import read_tokens
    from todm.export.bundle_writer import export_bundle, summary

    tokens = read_tokens(tokens_path)
    if args.checkpoint is not None:
        from todm.supernet.slicing import slice_subnet

        model = slice_subnet(args.checkpoint, args.subnet)
    else:
        from todm.supernet.static import StaticModel

        model = StaticModel.load(args.model)
    out = export_bundle(
        model, args.target, args.out, tokens, precision=args.precision,
        parity_manifest=args.parity_manifest, parity_utterances=args.parity_utterances,
        allow_parity_failure=args.allow_parity_failure, source=src, delegate=not args.no_delegate,
    )  # fmt: skip
    s = summary(out)
    parity = s["parity"]
    verdict = "not checked" if parity is None else ("passed" if parity["passed"] else "FAILED (recorded)")
    print(f"{s['subnet']} -> {out} ({s['format']}, {s['precision']}, {s['bytes']:,} bytes); parity {verdict}")
    if parity:
        print(f"  max |exported - eager|: {parity['max_abs_diff']}; words differing: "
              f"{parity['word_mismatches']} of {parity['words']}")  # fmt: skip
    return 0
