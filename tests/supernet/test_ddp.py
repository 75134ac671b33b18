"""Two training processes (gloo on 127.0.0.1) stay in lockstep: same subnets, same weights."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

# Runs train() unchanged; ScaledAdam is subclassed only to record every rank's weights
# after each step (rank 1 writes no checkpoint of its own).
WORKER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    import todm.supernet.train as T
    from todm.supernet.testing import tiny_train_config

    corpus, exp, out, steps = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    history = []

    class Recording(T.ScaledAdam):
        def step(self, closure=None):
            norm = super().step(closure)
            history.append(torch.cat([p.detach().reshape(-1).clone()
                                      for g in self.param_groups for p in g["params"]]))
            return norm

    T.ScaledAdam = Recording
    seen = []
    real_sandwich = T.sandwich
    def sandwich(model, cfg, step):
        specs = real_sandwich(model, cfg, step)
        seen.append([s.id for s in specs])
        return specs
    T.sandwich = sandwich

    cfg = tiny_train_config(corpus, exp, max_steps=steps)
    cfg.num_threads = 1
    cfg.recipe.num_random = 1
    T.train(cfg, quiet=True)
    rank = os.environ["RANK"]
    torch.save({"history": history, "specs": seen}, out / f"rank{rank}.pt")
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_end_with_identical_parameters(tiny_corpus: Path, tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    steps = 3
    env = dict(os.environ, WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()),
               OMP_NUM_THREADS="1")  # fmt: skip
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(tiny_corpus), str(tmp_path / "exp"), str(tmp_path), str(steps)],
            env=dict(env, RANK=str(r), LOCAL_RANK=str(r)),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        for r in range(2)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out[-3000:]

    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert len(r0["history"]) == len(r1["history"]) == steps
    # Same subnets sampled on every rank at every step (seeded by the step).
    assert r0["specs"] == r1["specs"] and len(r0["specs"]) == steps
    assert all(len(s) == 3 for s in r0["specs"])  # largest, smallest, one random
    for a, b in zip(r0["history"], r1["history"]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(r0["history"][0], r0["history"][-1])  # training moved the weights

    # What rank 0 checkpointed is what both ranks hold.
    from todm.supernet.checkpoint import load_checkpoint

    model = load_checkpoint(tmp_path / "exp" / "checkpoints" / "last.pt").model
    final = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    torch.testing.assert_close(final, r1["history"][-1], rtol=0, atol=0)


def test_ranks_see_different_halves_of_each_batch(tiny_corpus: Path) -> None:
    from todm.data.manifest import read_manifest
    from todm.data.tokenizer import train_tokenizer
    from todm.supernet.dataset import SpeechBatches

    manifest = tiny_corpus / "train.jsonl"
    tok = train_tokenizer([u.text for u in read_manifest(manifest)], "char", 0)
    data = SpeechBatches(manifest, tok, max_batch_seconds=20.0, seed=3)
    (_, b0), (_, b1), (_, whole) = (next(data.iterate(0, 0, r, w)) for r, w in ((0, 2), (1, 2), (0, 1)))
    assert set(b0.ids).isdisjoint(b1.ids)
    assert sorted(b0.ids + b1.ids) == sorted(whole.ids)
