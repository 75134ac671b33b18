"""Speech data: synthesis, import, manifests, audio, features, tokenizer, checks.

Importing this package does not import torch; torch-only modules say so in their name
(``fbank_torch``) and are imported explicitly.
"""
