"""The SSM encoder family exports too: a subnet with a reduced state, to every format, with
parity against eager PyTorch, and runs in the torch-free runtime."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from todm.export import export_bundle
from todm.runtime.recognizer import Recognizer
from todm.supernet.model import Supernet
from todm.supernet.model_config import tiny_config
from todm.supernet.slicing import slice_subnet


@pytest.mark.parametrize("fmt", ["onnx", "executorch", "tflite"])
def test_reduced_state_ssm_subnet_exports_with_parity(tmp_path, fmt):
    torch.manual_seed(0)
    supernet = Supernet(tiny_config(encoder="ssm", ssm_state_choices=[2, 4])).eval()
    static = slice_subnet(supernet, "L2-D24-F48x2-H2x2-S2")
    rng = np.random.default_rng(0)
    audio = [(f"noise{i}", 0.1 * rng.standard_normal(16000 + 3000 * i).astype(np.float32)) for i in range(2)]
    tokens = ["<blk>", *(f"t{i}" for i in range(1, static.meta.vocab_size))]
    # export_bundle checks every graph against eager PyTorch and raises on a mismatch
    out = export_bundle(static, fmt, tmp_path / fmt, tokens, parity_audio=audio)
    rec = Recognizer.from_bundle(out)
    # the streaming caches carry the reduced state
    assert [c.shape[-1] for c in rec.bundle.caches if c.name.startswith("cache_ssm")] == [2, 2]
    assert isinstance(rec.transcribe(audio[0][1]).text, str)
