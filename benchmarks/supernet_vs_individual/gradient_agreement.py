"""Gradient agreement: how far does a supernet step move each subnet the way its own loss asks?

    .venv/bin/python benchmarks/supernet_vs_individual/gradient_agreement.py [--batches 6] [--record]

A twin's step follows its own gradient. A subnet of the supernet below the largest is drawn
in few steps; in the others it moves with what the sandwich's gradients (the largest, the
smallest, one random subnet of each width; recipe 3) do to the weights it shares. This reads,
at recipe 3 seed 2's 3,000-step checkpoint (the weights of the judged reading's last
checkpoint, with its optimizer state), on training batches without speed perturbation,
SpecAugment or dropout:

- ``g_s``: each subnet's gradient of its transcript loss (RNN-T + CTC, as in training),
  summed over ``--batches`` batches;
- ``G``: the expected sandwich gradient, ``g_largest + g_smallest`` plus the mean gradient of
  ``--draws`` random subnets of each width, drawn as the trainer draws them;
- per subnet, over the weights it uses: the cosine of ``g_s`` with ``g_largest``, with
  ``g_smallest`` and with ``G``, both raw and as ScaledAdam sees them (each element over the
  root of its second-moment estimate, times the tensor's RMS: the direction of its update).
  A subnet's own share of ``G`` is negligible: a random draw is one of thousands of subnets.
  Beside them, the cosine of ``g_s`` with the subnet's own gradient on as many other
  batches (each next to one of the first): how far its own gradient turns from one set of
  batches to another. The other cosines are read on the same batches as ``g_s`` and share
  their noise, so they can exceed it.

Descriptive only: it judges nothing, and was written after "Five times the data". The
subnets it reads are the five width-96 subnets below the largest (the misses) and the three
width-64 subnets of the comparison other than the smallest (within noise of their twins; the
smallest, L2-D64-F192x2-H2x2, is in every step).
``--record`` writes ``gradient-agreement-seed2.md`` and ``.json`` here.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from readings import write_reading

from todm.data.tokenizer import Tokenizer
from todm.supernet.checkpoint import load_checkpoint
from todm.supernet.dataset import SpeechBatches
from todm.supernet.rnnt_loss import rnnt_loss
from todm.supernet.space import SubnetSpec

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "exp/svi-cpu-scale0.1-long-strat-seed2/supernet"
TRAIN = ROOT / "corpora/open-2h/train.jsonl"
WIDTH_96 = ["L2-D96-F384x2-H4x2", "L3-D96-F288x3-H4x3", "L3-D96-F384x3-H2x3", "L4-D96-F192x4-H2x4",
            "L4-D96-F288x4-H2x4"]  # fmt: skip
WIDTH_64 = ["L3-D64-F288x3-H2x3", "L4-D64-F384x4-H4x4", "L4-D64-F192x4-H2x4"]


def flat_gradient(model: torch.nn.Module, spec: SubnetSpec, batches: list, ctc_weight: float) -> torch.Tensor:
    model.zero_grad(set_to_none=False)
    model.set_active_subnet(spec, dropout=0.0)
    for b in batches:
        enc, enc_lens = model(b.feats, b.feat_lens)
        enc_lens = enc_lens.clamp(min=1)
        logits, ctc_lp = model.rnnt_logits(enc, b.tokens), model.ctc_log_probs(enc)
        loss = rnnt_loss(logits, b.tokens, enc_lens, b.token_lens, blank=model.config.blank_id)
        loss = loss + ctc_weight * torch.nn.functional.ctc_loss(
            ctc_lp.float().transpose(0, 1), b.tokens, enc_lens, b.token_lens,
            blank=model.config.blank_id, reduction="sum", zero_infinity=True) / len(b.ids)  # fmt: skip
        loss.backward()
    return torch.cat([p.grad.reshape(-1).clone() for p in model.parameters()])


def cosine(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    a, b = a[mask].double(), b[mask].double()
    return float(a @ b / (a.norm() * b.norm()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--step", type=int, default=3000)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--draws", type=int, default=8, help="random subnets per width for the expected sandwich")
    ap.add_argument("--record", nargs="?", const="gradient-agreement-seed2", default=None, metavar="STEM")
    args = ap.parse_args()
    torch.set_num_threads(2)
    ck = load_checkpoint(RUN / "checkpoints" / f"step-{args.step}.pt")
    model, rec = ck.model, ck.record
    cfg = rec["train_config"]
    data = SpeechBatches(TRAIN, Tokenizer.load(ck.tokenizer_dir), cfg["data"]["max_batch_seconds"],
                         features=model.config.feature_settings())  # fmt: skip
    picks = [round(i * (len(data) - 1) / max(args.batches - 1, 1)) for i in range(args.batches)]
    rng_np = np.random.default_rng(0)
    batches = [data.make_batch(data.batches[i], rng_np) for i in picks]
    # The same number of other batches, next to the first: how far a subnet's own gradient
    # turns from one set of batches to another, the scale the other cosines are read on.
    others = [data.make_batch(data.batches[i + 1], rng_np) for i in picks[:-1]] + [
        data.make_batch(data.batches[picks[-1] - 1], rng_np)]
    ctc_weight = float(cfg["recipe"]["ctc_weight"])
    space = model.space

    # ScaledAdam's view: each element over the root of its second moment, times the tensor's RMS.
    opt_state = rec["optimizer"]["state"]
    precond = []
    for i, p in enumerate(model.parameters()):
        v = opt_state.get(i, {}).get("exp_avg_sq")
        rms = p.detach().pow(2).mean().sqrt().clamp(min=1e-5) if p.numel() > 1 else torch.tensor(1.0)
        precond.append((rms / (v.sqrt() + 1e-8)).reshape(-1) if v is not None else torch.ones(p.numel()))
    scale = torch.cat(precond)

    largest, smallest = space.largest(), space.smallest()
    grads: dict[str, torch.Tensor] = {}
    for spec in [largest, smallest, *map(SubnetSpec.from_id, WIDTH_96 + WIDTH_64)]:
        grads[spec.id] = flat_gradient(model, spec, batches, ctc_weight)
    rng = random.Random(0)
    per_width: dict[int, torch.Tensor] = {}
    for width in space.d_model_choices:
        draws = []
        while len(draws) < args.draws:
            s = space.sample(rng)
            if s.d_model == width:
                draws.append(flat_gradient(model, s, batches, ctc_weight))
        per_width[width] = torch.stack(draws).mean(0)
    sandwich = grads[largest.id] + grads[smallest.id] + sum(per_width.values())

    rows: dict[str, Any] = {}
    lines = [f"# Gradient agreement at recipe 3 seed 2's step {args.step:,}", "",
             f"Cosines over the weights each subnet uses; {args.batches} training batches; the expected sandwich "
             f"with {args.draws} random draws per width. Raw / as ScaledAdam scales them.", "",
             "| subnet | with largest | with smallest | with sandwich | with itself, other batches |",
             "|---|---|---|---|---|"]  # fmt: skip
    refs = {"largest": grads[largest.id], "smallest": grads[smallest.id], "sandwich": sandwich}
    for sid in WIDTH_96 + WIDTH_64:
        g = grads[sid]
        mask = g != 0
        row: dict[str, Any] = {"width": SubnetSpec.from_id(sid).d_model}
        own = flat_gradient(model, SubnetSpec.from_id(sid), others, ctc_weight)
        for view, f in (("raw", torch.ones_like(scale)), ("scaled", scale)):
            row[view] = {k: cosine(g * f, ref * f, mask) for k, ref in {**refs, "itself": own}.items()}
        rows[sid] = row
        lines.append(f"| {sid} | " + " | ".join(f"{row['raw'][k]:.3f} / {row['scaled'][k]:.3f}" for k in [*refs, "itself"]) + " |")
    lines.append("")
    for width, members in ((96, WIDTH_96), (64, WIDTH_64)):
        for view in ("raw", "scaled"):
            mean = {k: sum(rows[s][view][k] for s in members) / len(members) for k in [*refs, "itself"]}
            lines.append(f"- width {width}, {view}: mean cosine with the largest {mean['largest']:.3f}, "
                         f"the smallest {mean['smallest']:.3f}, the sandwich {mean['sandwich']:.3f}; "
                         f"with itself on other batches {mean['itself']:.3f}.")  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.record:
        write_reading(args.record, text, {"step": args.step, "batches": args.batches, "draws": args.draws,
                                          "subnets": rows})  # fmt: skip


if __name__ == "__main__":
    main()
