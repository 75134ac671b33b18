"""todm: train once, deploy many.

One supernet RNN-T/CTC speech recognizer, trained once; subnetworks sized for each
device are searched, sliced, compressed, exported and measured on the device.

This package import is torch-free on purpose: a device installs ``todm[runtime]``
(numpy and one runtime) and imports ``todm.runtime`` without torch.
"""

__version__ = "0.1.0"
