"""Optimisation: the update rules (``optimizers``), learning-rate schedules and gradient
clipping. NumPy only; each follows PyTorch's documented semantics and defaults."""

from deltaflow.optim.clip import clip_grad_norm, clip_grad_value
from deltaflow.optim.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, get_optimizer
from deltaflow.optim.schedules import CosineAnnealingLR, ExponentialLR, LinearWarmup, LRSchedule, StepLR, get_schedule

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "get_optimizer",
    "LRSchedule", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup", "get_schedule",
    "clip_grad_norm", "clip_grad_value",
]
