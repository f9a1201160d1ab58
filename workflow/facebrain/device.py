"""Choosing the torch device."""

from __future__ import annotations


def resolve_device(name: str = "auto"):
    """Return a ``torch.device``: 'auto' picks cuda when available, else mps, else cpu.

    'cpu', 'cuda', 'cuda:N' and 'mps' are taken as given; asking for cuda on a
    machine without it raises a RuntimeError that says so.
    """
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device '{name}' was requested but torch sees no CUDA device; use device: auto or cpu")
    return device
