"""Chunk-by-chunk streaming reproduces whole-utterance encoding; frame arithmetic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.supernet.helpers import strong_position_bias
from todm.supernet.model import Supernet, tiny_config
from todm.supernet.slicing import slice_subnet
from todm.supernet.static import StaticModel
from todm.supernet.subsampling import (
    Subsampling,
    chunk_input_frames,
    receptive_field,
    subsampled_length,
)

torch.set_num_threads(1)



def stream(model: StaticModel, feats: torch.Tensor, ctc: bool = False) -> torch.Tensor:
    """Run ``feats [1, T, 80]`` through ``encode_chunk`` as static.py's docstring says."""
    meta = model.meta
    n_out = int(subsampled_length(feats.shape[1], meta.subsampling))
    caches = model.init_caches(1)
    outs: list[torch.Tensor] = []
    k = 0
    while sum(o.shape[1] for o in outs) < n_out:
        start = k * meta.chunk_shift_frames
        chunk = feats[:, start : start + meta.chunk_input_frames]
        chunk = F.pad(chunk, (0, 0, 0, meta.chunk_input_frames - chunk.shape[1]))
        step = model.ctc_chunk if ctc else model.encode_chunk
        out, *caches = step(chunk, *caches)
        assert out.shape[1] == meta.chunk_frames
        outs.append(out)
        k += 1
    return torch.cat(outs, dim=1)[:, :n_out]


@pytest.mark.parametrize(
    ("factor", "rf", "per_chunk"), [(4, 7, (4, 3)), (6, 11, (6, 5)), (8, 15, (8, 7))]
)
def test_frame_arithmetic(factor: int, rf: int, per_chunk: tuple[int, int]) -> None:
    assert receptive_field(factor) == rf
    sub = Subsampling(80, factor, 2, 8, elastic=False)
    for c in (1, 2, 5):
        assert chunk_input_frames(c, factor) == per_chunk[0] * c + per_chunk[1]
        assert sub(torch.zeros(1, chunk_input_frames(c, factor), 80)).shape[1] == c
    for t in range(0, 60):
        expected = sub(torch.zeros(1, t, 80)).shape[1] if t >= rf else 0
        assert subsampled_length(t, factor) == expected
        assert int(subsampled_length(torch.tensor([t]), factor)[0]) == expected
    # x4 closed form from the design: ((T-3)//2+1-3)//2+1
    if factor == 4:
        assert all(subsampled_length(t, 4) == ((t - 3) // 2 + 1 - 3) // 2 + 1 for t in range(7, 99))


@pytest.mark.parametrize("factor", [4, 6, 8])
def test_chunked_subsampling_equals_whole(factor: int) -> None:
    torch.manual_seed(0)
    sub = Subsampling(80, factor, 3, 8, elastic=False)
    c, t = 3, 100
    x = torch.randn(1, t, 80)
    whole = sub(x)
    n = whole.shape[1]
    parts = []
    for k in range(-(-n // c)):
        chunk = x[:, k * factor * c : k * factor * c + chunk_input_frames(c, factor)]
        chunk = F.pad(chunk, (0, 0, 0, chunk_input_frames(c, factor) - chunk.shape[1]))
        parts.append(sub(chunk))
    assert torch.allclose(torch.cat(parts, 1)[:, :n], whole, atol=1e-6)


@pytest.mark.parametrize(
    ("encoder", "factor", "state", "elastic_depth"),
    [("conformer", 4, "", "first"), ("conformer", 6, "", "first"), ("conformer", 8, "", "first"),
     ("ssm", 4, "", "first"), ("ssm", 4, "-S2", "first"), ("conformer", 4, "", "spread")],  # fmt: skip
)
def test_streaming_equals_encode(encoder: str, factor: int, state: str, elastic_depth: str) -> None:
    torch.manual_seed(0)
    extra = {"ssm_state_choices": [2, 4]} if state else {}
    extra["elastic_depth"] = elastic_depth
    net = Supernet(tiny_config(encoder=encoder, subsampling=factor, **extra)).eval()
    net.set_feature_stats(torch.randn(80), torch.rand(80) + 0.5)
    strong_position_bias(net)
    static = slice_subnet(net, "L3-D24-F48_32_64-H2_4_1" + state)
    if state:  # the carried state is the reduced one
        assert static.cache_specs()[0].shape == (1, 16, 2)
    # lengths: shorter than one chunk, exactly chunk-aligned, and a final partial chunk
    shift, cin = static.meta.chunk_shift_frames, static.meta.chunk_input_frames
    with torch.no_grad():
        for t in (cin - 2, cin + 2 * shift, cin + 5 * shift + 3, 150):
            feats = torch.randn(1, t, 80) * 2
            n = int(subsampled_length(t, factor))
            whole, lens = static.encode(feats, torch.tensor([t]))
            assert int(lens[0]) == n
            got = stream(static, feats)
            assert got.shape[1] == n
            assert torch.allclose(got, whole[:, :n], atol=1e-5), (t, (got - whole[:, :n]).abs().max())
            ctc_whole, _ = static.ctc(feats, torch.tensor([t]))
            assert torch.allclose(stream(static, feats, ctc=True), ctc_whole[:, :n], atol=1e-5)


def test_left_context_is_limited() -> None:
    """A change early in the utterance stops mattering after the left context (attention)
    and conv tails have passed: frames far later are unaffected only through limited paths,
    so at least the first chunk's change must not reach past depth*(L+C+K) frames."""
    torch.manual_seed(0)
    cfg = tiny_config(max_depth=1, depth_choices=[1], conv_kernel=2)
    static = slice_subnet(Supernet(cfg).eval(), "largest")
    feats = torch.randn(1, 4 * 40 + 3, 80)
    other = feats.clone()
    other[:, :8] += 5.0  # touches encoder frames 0..1 only
    with torch.no_grad():
        a = static.encode(feats, torch.tensor([feats.shape[1]]))[0]
        b = static.encode(other, torch.tensor([feats.shape[1]]))[0]
    diff = (a - b).abs().amax(dim=(0, 2))
    assert diff[:2].max() > 1e-3
    # chunk 0 (frames 0..3) is seen by chunks 1 and 2 (L = 8 = 2 chunks), and the conv
    # carries one more frame; from frame 13 on nothing may change.
    assert diff[12] > 0 and diff[13:].max() == 0
