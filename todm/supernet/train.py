"""``train(config)``: train a supernet once (or one subnet alone, in baseline mode).

Each step follows the TODM recipe:

1. the largest subnet learns from the transcripts (RNN-T + ctc_weight x CTC; in the
   sandwich, times ``recipe.largest_loss_weight``);
2. the smallest (``recipe.smallest_per_width``: each width's smallest in turn) and
   ``num_random`` random subnets (``recipe.random_layer_uniform``: each the same in every
   layer) learn from the transcripts and, by
   in-place distillation, from the largest subnet's detached outputs (adaptive
   alpha-divergence on the RNN-T lattice and/or the CTC posteriors);
3. each subnet runs with a dropout rate that grows with its size (adaptive dropout);
4. the accumulated gradients are averaged over processes, clipped and applied by
   ScaledAdam; Eden sets the learning rate.

Everything random is seeded by the step or the data position, and a checkpoint holds
the position, so ``resume=True`` after a kill continues exactly as if nothing happened.
Run several processes with ``torchrun --nproc-per-node N -m todm.cli train ...``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

from todm.bundle import atomic_write_text
from todm.data.manifest import read_manifest
from todm.data.stats import FeatureStats, compute_feature_stats
from todm.data.tokenizer import Tokenizer, train_tokenizer
from todm.errors import ConfigError
from todm.supernet.augment import spec_augment
from todm.supernet.checkpoint import read_checkpoint, save_checkpoint
from todm.supernet.config_changes import changed_settings, model_changes, with_defaults
from todm.supernet.dataset import Batch, SpeechBatches
from todm.supernet.distill import adaptive_alpha_divergence, frame_mask, lattice_mask
from todm.supernet.model import Supernet
from todm.supernet.optim import Eden, ScaledAdam
from todm.supernet.rnnt_loss import rnnt_loss
from todm.supernet.sorting import sort_channels
from todm.supernet.space import SubnetSpec
from todm.supernet.train_config import TrainConfig


def training_device(cfg: TrainConfig) -> torch.device:
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def prepare_experiment(cfg: TrainConfig) -> tuple[Path, Tokenizer, FeatureStats]:
    """Create the experiment dir with its config, tokenizer and feature statistics."""
    exp = Path(cfg.exp_dir)
    exp.mkdir(parents=True, exist_ok=True)
    tok_dir = exp / "tokenizer"
    if cfg.init_from:
        _take_tokenizer_and_stats(Path(cfg.init_from), exp)
    if (tok_dir / "tokenizer.json").is_file():
        tok = Tokenizer.load(tok_dir)
    else:
        texts = [u.text for u in read_manifest(cfg.data.train_manifest)]
        tok = train_tokenizer(texts, cfg.data.tokenizer, cfg.data.vocab_size, tok_dir)
    stats_path = exp / "feature_stats.json"
    if stats_path.is_file():
        stats = FeatureStats.load(stats_path)
        if stats.input_scale not in (None, cfg.model.input_scale):
            raise ConfigError(
                f"{stats_path}: statistics of fbank at input_scale {stats.input_scale:g}, but model.input_scale "
                f"is {cfg.model.input_scale:g}; delete the file to recompute it"
            )
    else:
        stats = compute_feature_stats(read_manifest(cfg.data.train_manifest), cfg.model.feature_settings(),
                                      max_utts=500)
        stats.save(stats_path)
    cfg.model.vocab_size = tok.vocab_size
    cfg.model.blank_id = tok.blank_id
    cfg.model.validate()
    atomic_write_text(exp / "config.yaml", f"# todm train --config {exp / 'config.yaml'}\n" + cfg.to_yaml())
    return exp, tok, stats


def _take_tokenizer_and_stats(source: Path, exp: Path) -> None:
    """Copy the tokenizer and feature statistics of ``source``'s experiment into ``exp``
    (or check the ones it has already are those): weights are only meaningful with the
    token ids and the feature normalisation they were trained on."""
    src_exp = source.parent.parent  # checkpoints live in <exp>/checkpoints/
    for what, name, marker in (("tokenizer", "tokenizer", "tokenizer.json"),
                               ("feature statistics", "feature_stats.json", None)):  # fmt: skip
        src, dst = src_exp / name, exp / name
        if not (src / marker if marker else src).is_file():
            raise ConfigError(f"init_from: {source}: its experiment has no {what} ({src} missing); "
                              "start from a checkpoint inside the experiment dir that trained it")  # fmt: skip
        if not dst.exists():
            if marker:
                shutil.copytree(src, dst)
            else:
                shutil.copyfile(src, dst)
        elif _contents(dst) != _contents(src):
            raise ConfigError(f"init_from: {source}: {dst} is another {what} than the one its weights were "
                              f"trained with ({src}); start from it in a new exp_dir")  # fmt: skip


def _contents(path: Path) -> dict[str, bytes]:
    """A file's bytes, or every file's in a folder, by relative name."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _start_from(source: Path, model: Supernet, cfg: TrainConfig) -> None:
    """Load ``source``'s weights into the fresh ``model``; only the same model will do."""
    rec = read_checkpoint(source)
    changes = model_changes(rec.get("model_config"), cfg.model.to_dict())
    if changes:
        raise ConfigError(f"init_from: {source} holds another model ({'; '.join(changes)}); "
                          "train with that run's model settings (its config.yaml)")  # fmt: skip
    model.load_state_dict(rec["model"])


class DropoutRule:
    """Adaptive dropout: linear in the subnet's parameter count, min at the smallest."""

    def __init__(self, model: Supernet, p_min: float, p_max: float) -> None:
        self.space, self.p_min, self.p_max = model.space, p_min, p_max
        self._cache: dict[str, int] = {}
        self.lo = self.params(self.space.smallest())
        self.hi = self.params(self.space.largest())

    def params(self, spec: SubnetSpec) -> int:
        if spec.id not in self._cache:
            self._cache[spec.id] = self.space.num_params(spec)
        return self._cache[spec.id]

    def __call__(self, spec: SubnetSpec) -> float:
        if self.hi == self.lo:
            return self.p_max
        frac = (self.params(spec) - self.lo) / (self.hi - self.lo)
        return self.p_min + (self.p_max - self.p_min) * frac


def sandwich(model: Supernet, cfg: TrainConfig, step: int) -> list[SubnetSpec]:
    """The subnets of one step; the same on every process (seeded by the step)."""
    if cfg.recipe.baseline_subnet:
        return [model.space.resolve(cfg.recipe.baseline_subnet)]
    if step < cfg.recipe.shrink_after_steps:
        return [model.space.largest()]
    rng = random.Random(cfg.seed * 1_000_003 + step)
    widths = model.space.d_model_choices
    bottom = model.space.smallest(widths[step % len(widths)] if cfg.recipe.smallest_per_width else None)
    specs = [model.space.largest(), bottom]
    for i in range(cfg.recipe.num_random):
        weights = cfg.recipe.random_width_weights
        if cfg.recipe.random_per_width:
            weights = [float(j == i % len(widths)) for j in range(len(widths))]
        specs.append(model.space.sample(rng, weights, layer_uniform=cfg.recipe.random_layer_uniform))
    return specs


def sort_before_sandwich(
    model: Supernet, opt: torch.optim.Optimizer, cfg: TrainConfig, step: int,
) -> dict[str, list[int]] | None:  # fmt: skip
    """``recipe.sort_channels_at_shrink``: sort the channels (and the optimizer's state with
    them) once, just before the first sandwich step; the permutations, else None."""
    r = cfg.recipe
    if not r.sort_channels_at_shrink or r.baseline_subnet or step != r.shrink_after_steps:
        return None
    return {name: perm.tolist() for name, perm in sort_channels(model, opt).items()}


def private_norms_from_largest(
    model: Supernet, opt: torch.optim.Optimizer, cfg: TrainConfig, step: int,
) -> bool:  # fmt: skip
    """``model.private_norms`` with a delayed start: just before the first sandwich step,
    every variant's norm pair (and its optimizer state) becomes a copy of the largest's,
    the only pair trained so far. The smaller subnets then start from the norms the
    shared weights were trained with, not from the initial ones. True if it copied."""
    r = cfg.recipe
    if not model.config.private_norms or r.baseline_subnet or r.shrink_after_steps == 0 \
            or step != r.shrink_after_steps:  # fmt: skip
        return False
    largest = model.space.num_layer_variants - 1
    with torch.no_grad():
        for layer in model.encoder.layers:
            for norm in layer.private_norms():
                for params in (norm.weights, norm.biases):
                    src = params[largest]
                    for v, dst in enumerate(params):
                        if v == largest:
                            continue
                        dst.copy_(src)
                        opt.state.pop(dst, None)
                        if src in opt.state:
                            opt.state[dst] = {
                                k: x.clone() if isinstance(x, torch.Tensor) else x
                                for k, x in opt.state[src].items()
                            }
    return True


def train_step(
    model: Supernet, batch: Batch, cfg: TrainConfig, step: int, dropout: DropoutRule,
    fill: torch.Tensor, amp: bool,
) -> dict[str, float]:  # fmt: skip
    """Forward and backward every subnet of the step; gradients accumulate in ``.grad``."""
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + step)
    feats = spec_augment(batch.feats, batch.feat_lens, fill.cpu(), cfg.specaug, gen).to(batch.feats.device)
    recipe = cfg.recipe
    teacher: dict[str, torch.Tensor] = {}
    stats: dict[str, float] = {}
    specs = sandwich(model, cfg, step)
    for k, spec in enumerate(specs):
        model.set_active_subnet(spec, dropout=dropout(spec))
        with torch.autocast(device_type=feats.device.type, dtype=torch.bfloat16, enabled=amp):
            enc, enc_lens = model(feats, batch.feat_lens)
            logits = model.rnnt_logits(enc, batch.tokens)
            ctc_lp = model.ctc_log_probs(enc)
        enc_lens = enc_lens.clamp(min=1)
        loss_rnnt = rnnt_loss(logits, batch.tokens, enc_lens, batch.token_lens, blank=model.config.blank_id)
        # Per utterance, like the RNN-T loss: ctc_loss's default "mean" divides by the
        # label count too, which shrank CTC ~U-fold against RNN-T; the encoder then
        # collapsed to a constant under RNN-T alone and never learned the audio.
        loss_ctc = torch.nn.functional.ctc_loss(
            ctc_lp.float().transpose(0, 1), batch.tokens, enc_lens, batch.token_lens,
            blank=model.config.blank_id, reduction="sum", zero_infinity=True,
        ) / len(batch.ids)  # fmt: skip
        loss = loss_rnnt + recipe.ctc_weight * loss_ctc
        name = "largest" if k == 0 else ("smallest" if k == 1 else f"random{k - 1}")
        if len(specs) > 1 and k == 0:
            loss = loss * recipe.largest_loss_weight
            teacher["rnnt"] = torch.log_softmax(logits.float(), -1).detach()
            teacher["ctc"] = ctc_lp.float().detach()
        elif k > 0 and recipe.kd_weight > 0:
            kd = logits.new_zeros(())
            if "rnnt" in recipe.kd_targets:
                mask = lattice_mask(enc_lens, batch.token_lens, logits.shape[1], logits.shape[2])
                kd = kd + adaptive_alpha_divergence(
                    teacher["rnnt"], torch.log_softmax(logits.float(), -1), mask,
                    recipe.alpha_min, recipe.alpha_max,
                )  # fmt: skip
            if "ctc" in recipe.kd_targets:
                kd = kd + adaptive_alpha_divergence(
                    teacher["ctc"], ctc_lp.float(), frame_mask(enc_lens, ctc_lp.shape[1]),
                    recipe.alpha_min, recipe.alpha_max,
                )  # fmt: skip
            loss = loss + recipe.kd_weight * kd
            stats[f"kd_{name}"] = float(kd.detach())
        loss.backward()
        stats[f"loss_{name}"] = float(loss_rnnt.detach())
    return stats


def build_model_and_optimizer(
    cfg: TrainConfig, stats: FeatureStats, device: torch.device,
) -> tuple[Supernet, torch.optim.Optimizer, Eden]:  # fmt: skip
    """A freshly initialised model (seeded by ``cfg.seed``), its optimizer and schedule."""
    torch.manual_seed(cfg.seed)
    model = Supernet(cfg.model)
    model.set_feature_stats(torch.from_numpy(stats.mean), torch.from_numpy(stats.std))
    model.to(device).train()
    opt: torch.optim.Optimizer
    if cfg.optim.name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)
    else:
        opt = ScaledAdam(model.parameters(), lr=cfg.optim.lr, clipping_scale=cfg.optim.clipping_scale,
                         scale_lr_scale=cfg.optim.scale_lr_scale)
    return model, opt, Eden(opt, cfg.optim.lr_batches, cfg.optim.lr_epochs, cfg.optim.warmup_batches)


def apply_update(model: Supernet, opt: torch.optim.Optimizer) -> float:
    """Clip and apply the accumulated gradients; returns the gradient norm."""
    if isinstance(opt, ScaledAdam):
        return opt.step()  # clips relative to recent norms itself
    grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0))
    opt.step()
    return grad_norm


def _append_metrics(log_path: Path, row: dict[str, float]) -> None:
    """One row of ``metrics.csv``. A row with a column the header lacks (the students'
    losses, once a delayed sandwich starts) rewrites the file with the header widened,
    the earlier rows blank there, so every column keeps its name."""
    header: list[str] = []
    if log_path.is_file():
        with open(log_path, newline="") as f:
            header = next(csv.reader(f), [])
    if header and all(k in header for k in row):
        with open(log_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=header, restval="").writerow(row)
        return
    rows: list[dict[str, str]] = []
    if header:
        with open(log_path, newline="") as f:
            rows = list(csv.DictReader(f))
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=header + [k for k in row if k not in header], restval="")
    w.writeheader()
    w.writerows(rows)
    w.writerow(row)
    atomic_write_text(log_path, buf.getvalue())


def _drop_rows_after(log_path: Path, step: int) -> None:
    """Forget the metrics a killed run logged after the checkpoint it resumes from: they are redone."""
    with open(log_path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= step]
    if len(kept) < len(rows):
        buf = io.StringIO(newline="")
        csv.writer(buf).writerows(kept)
        atomic_write_text(log_path, buf.getvalue())


_RULE_NOT_WEIGHTS = "elastic_depth"


def _check_resumable(last: Path, rec: dict, cfg: TrainConfig, announce: bool) -> None:
    """A checkpoint resumes only into the model it trained; other changed settings are allowed
    (a longer ``max_steps`` is the usual one) but said aloud, since the run now mixes two recipes."""
    if "averaged_from" in rec:
        raise ConfigError(f"{last}: an averaged checkpoint (todm average), for decoding and export only; "
                          "it keeps no optimizer state to resume from")  # fmt: skip
    # as below: a model setting the checkpoint does not name trained as its default does
    # which layers a subnet runs changes no weight, so it may change as a recipe setting may
    changed_model = [c for c in model_changes(rec.get("model_config"), cfg.model.to_dict())
                     if not c.startswith(f"{_RULE_NOT_WEIGHTS}:")]  # fmt: skip
    if changed_model:
        raise ConfigError(f"{last}: was trained with another model ({'; '.join(changed_model)}); "
                          "resume with that run's config.yaml or train into a new exp_dir")  # fmt: skip
    # A setting the checkpoint does not name came into todm after that run, which trained
    # as its default does (new knobs default to the old behaviour): not a change.
    other = changed_settings(with_defaults(rec.get("train_config", {}), TrainConfig().to_dict()), cfg.to_dict())
    if other and announce:
        print(f"{last}: resuming with changed settings: {'; '.join(other)}", file=sys.stderr)


def _average_gradients(model: torch.nn.Module, world: int) -> None:
    # Subnets change every step, so DDP's bucket bookkeeping does not fit; a flat
    # all-reduce of every gradient (zeros where unused) is simple and exact. A parameter
    # no process used keeps no gradient, as in one process: ScaledAdam then leaves it
    # alone instead of moving it by its momentum (unused private norms, for one).
    params = list(model.parameters())
    used = torch.tensor([float(p.grad is not None) for p in params], device=params[0].device)
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [used])
    dist.all_reduce(flat)
    flat /= world
    used_anywhere = (flat[-len(params) :] > 0).tolist()
    offset = 0
    for p, g, keep in zip(params, grads, used_anywhere):
        n = g.numel()
        p.grad = flat[offset : offset + n].view_as(p).clone() if keep else None
        offset += n


def train(cfg: TrainConfig, resume: bool = False, quiet: bool = False) -> Path:
    """Train; returns the experiment dir (``checkpoints/last.pt`` is the final state)."""
    cfg.validate()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = training_device(cfg)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    exp, tok, stats = prepare_experiment(cfg) if rank == 0 else (Path(cfg.exp_dir), None, None)
    if world > 1:
        dist.barrier()
        if rank != 0:
            exp, tok, stats = prepare_experiment(cfg)
    model, opt, sched = build_model_and_optimizer(cfg, stats, device)
    data = SpeechBatches.for_training(cfg, tok)
    step, epoch, start = 0, 0, 0
    # Training cost, summed over every resume: benchmarks compare runs by it, and a
    # killed run must not lose the seconds it already spent.
    cost = {"wall_seconds": 0.0, "cpu_seconds": 0.0}
    last = exp / "checkpoints" / "last.pt"
    if resume and last.is_file():
        rec = read_checkpoint(last)
        _check_resumable(last, rec, cfg, announce=rank == 0)
        model.load_state_dict(rec["model"])
        opt.load_state_dict(rec["optimizer"])
        sched.load_state_dict(rec["scheduler"])
        step, epoch, start = (int(rec["position"][k]) for k in ("step", "epoch", "batch"))
        cost.update({k: float(v) for k, v in rec.get("cost", {}).items() if k in cost})
        torch.set_rng_state(rec["rng"]["torch"])
        if device.type == "cuda" and "cuda" in rec["rng"]:
            torch.cuda.set_rng_state(rec["rng"]["cuda"])
    elif cfg.init_from:
        _start_from(Path(cfg.init_from), model, cfg)
    dropout = DropoutRule(model, cfg.recipe.dropout_min, cfg.recipe.dropout_max)
    fill = torch.from_numpy(stats.mean).to(device)
    amp = cfg.amp and device.type == "cuda"

    def spent() -> dict[str, float]:
        return {"wall_seconds": cost["wall_seconds"] + time.perf_counter() - t0,
                "cpu_seconds": cost["cpu_seconds"] + time.process_time() - c0}  # fmt: skip

    def checkpoint(epoch_: int, batch_: int) -> None:
        if rank != 0:
            return
        rng = {"torch": torch.get_rng_state()}
        if device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state()
        rec = {
            "model": model.state_dict(), "model_config": cfg.model.to_dict(),
            "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
            "position": {"step": step, "epoch": epoch_, "batch": batch_}, "rng": rng,
            "cost": spent(),
            "train_config": cfg.to_dict(),
            "feature_stats": {"mean": stats.mean.tolist(), "std": stats.std.tolist()},
        }  # fmt: skip
        save_checkpoint(exp / "checkpoints" / f"step-{step}.pt", rec)
        save_checkpoint(last, rec)

    from tqdm import tqdm

    bar = tqdm(total=cfg.max_steps, initial=step, desc="train", unit="step",
               disable=quiet or rank != 0, file=sys.stderr)  # fmt: skip
    log_path = exp / "metrics.csv"
    # A run killed before its first checkpoint, or started again without --resume, redoes
    # from step 0 what it logged; its old rows (and TensorBoard points) must go, not repeat.
    if rank == 0 and log_path.is_file():
        _drop_rows_after(log_path, step)
    writer = None
    try:
        from torch.utils.tensorboard import SummaryWriter

        # purge_step hides what a killed run logged past its last checkpoint
        writer = SummaryWriter(str(exp / "tb"), purge_step=step + 1) if rank == 0 else None
    except ImportError:  # tensorboard is optional
        writer = None
    t0, c0 = time.perf_counter(), time.process_time()
    while step < cfg.max_steps and epoch < cfg.max_epochs:
        sched.step_epoch(epoch)
        for i, batch in data.iterate(epoch, start, rank, world):
            batch = batch.to(device)
            perms = sort_before_sandwich(model, opt, cfg, step)
            if perms is not None and rank == 0:
                # a record of what moved where, for whoever compares runs or slices by hand
                atomic_write_text(exp / "channel-sort.json", json.dumps({"step": step, "permutations": perms}))
            private_norms_from_largest(model, opt, cfg, step)
            opt.zero_grad(set_to_none=True)
            stats_ = train_step(model, batch, cfg, step, dropout, fill, amp)
            if world > 1:
                _average_gradients(model, world)
            grad_norm = apply_update(model, opt)
            sched.step_batch()
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{stats_['loss_largest']:.3f}", lr=f"{sched.get_last_lr()[0]:.2e}")
            if rank == 0 and (step % cfg.log_every == 0 or step == cfg.max_steps):
                row = {"step": step, "epoch": epoch, "lr": sched.get_last_lr()[0],
                       "grad_norm": grad_norm, "seconds": round(spent()["wall_seconds"], 2), **stats_}  # fmt: skip
                _append_metrics(log_path, row)
                if writer is not None:
                    for k, v in row.items():
                        if k not in ("step", "epoch"):
                            writer.add_scalar(k, v, step)
            if step % cfg.checkpoint_every == 0 or step == cfg.max_steps:
                checkpoint(epoch, i + 1)
            if step >= cfg.max_steps:
                break
        else:
            epoch += 1
            start = 0
            continue
        break
    if step < cfg.max_steps:  # ran out of epochs
        checkpoint(epoch, 0)
    bar.close()
    if writer is not None:
        writer.close()
    return exp

