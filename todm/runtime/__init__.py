"""Everything that runs on a device: front end, decoding, backends, measurement.

Never imports torch at module level: a device has numpy and one runtime. ExecuTorch's
Python runtime (which links libtorch) is the one exception, imported lazily.
"""
