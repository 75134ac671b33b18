"""Decoding in PyTorch (eager reference for evaluation and export parity).

Works on any model exposing the transducer pieces: encoder frames already projected to
the joiner width, a stateless predictor step ``decoder(y [N, context])`` and
``joiner(enc [N, J], dec [N, J]) -> [N, V]``. The torch-free runtime implements the
same searches in numpy; tests hold the two to the same words.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Decoder = Callable[[torch.Tensor], torch.Tensor]
Joiner = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@torch.no_grad()
def greedy_search(
    enc: torch.Tensor, decoder: Decoder, joiner: Joiner, blank: int, context_size: int,
    max_symbols_per_frame: int = 3,
) -> list[int]:  # fmt: skip
    """RNN-T greedy search over one utterance's frames ``enc [T, J]``."""
    hyp = [blank] * context_size
    dec = decoder(torch.tensor([hyp[-context_size:]]))
    for t in range(enc.shape[0]):
        for _ in range(max_symbols_per_frame):
            logits = joiner(enc[t : t + 1], dec)
            tok = int(logits.argmax(-1))
            if tok == blank:
                break
            hyp.append(tok)
            dec = decoder(torch.tensor([hyp[-context_size:]]))
    return hyp[context_size:]


@torch.no_grad()
def modified_beam_search(
    enc: torch.Tensor, decoder: Decoder, joiner: Joiner, blank: int, context_size: int, beam: int = 4
) -> list[int]:
    """RNN-T beam search with at most one symbol per frame; hyps merged by token sequence."""
    hyps: dict[tuple[int, ...], float] = {(blank,) * context_size: 0.0}
    for t in range(enc.shape[0]):
        keys = list(hyps)
        ctx = torch.tensor([list(k[-context_size:]) for k in keys])
        dec = decoder(ctx)  # [H, J]
        logp = torch.log_softmax(joiner(enc[t : t + 1].expand(len(keys), -1), dec), -1)  # [H, V]
        scores = torch.tensor([hyps[k] for k in keys])[:, None] + logp
        top = torch.topk(scores.reshape(-1), min(beam, scores.numel()))
        new: dict[tuple[int, ...], float] = {}
        vocab = logp.shape[1]
        for s, flat in zip(top.values.tolist(), top.indices.tolist()):
            h, tok = divmod(flat, vocab)
            key = keys[h] if tok == blank else keys[h] + (tok,)
            # Two paths to the same tokens: add their probabilities.
            new[key] = float(torch.logaddexp(torch.tensor(new[key]), torch.tensor(s))) if key in new else s
        hyps = new
    best = max(hyps, key=lambda k: hyps[k])
    return list(best[context_size:])


def ctc_greedy(log_probs: torch.Tensor, blank: int) -> list[int]:
    """Best path of ``log_probs [T, V]``: collapse repeats, drop blanks."""
    best = log_probs.argmax(-1).tolist()
    out, prev = [], None
    for tok in best:
        if tok != prev and tok != blank:
            out.append(tok)
        prev = tok
    return out
