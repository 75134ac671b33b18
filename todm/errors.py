"""Errors every stage shares. Each says which file (and line or field) and what was expected."""

from __future__ import annotations


class TodmError(Exception):
    """Base of todm's user-facing errors: the CLI prints the message, without a traceback."""


class DataError(TodmError):
    """Bad input data: audio, manifests, text. The message names the file and the problem."""


class ConfigError(TodmError):
    """A config file or value is invalid. The message names the field and what was expected."""


class DeviceError(TodmError):
    """A device profile is invalid, a device is unreachable, or a model does not fit it."""


class BundleError(TodmError):
    """A bundle (or an artifact's metadata) is missing, malformed or tampered with."""
