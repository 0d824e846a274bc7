"""Learn mode's computations: one module per chapter, each a strict request model and ``run``.

``LESSONS[chapter] = (Request, run)``: ``run(Request.model_validate(data)) -> dict`` computes
the chapter's numbers with the engine itself (JSON-ready, NaN as None), deterministically from
the request's seed, well under a second for the largest request its schema allows. The wire
message is ``lesson`` (``deltaflow.web.protocol``); a lesson never changes the session's run.
``CHAPTERS`` lists the chapters the server computes for, in the text's order.
"""

from __future__ import annotations

from deltaflow.web.lessons import (activations, backprop, batchnorm, forward, linear, minibatch, perceptron, softmax,
                                   universal, vanishing)

LESSONS = {
    "perceptron": (perceptron.PerceptronRequest, perceptron.run),
    "forward": (forward.ForwardRequest, forward.run),
    "linear": (linear.LinearRequest, linear.run),
    "activations": (activations.ActivationsRequest, activations.run),
    "softmax": (softmax.SoftmaxRequest, softmax.run),
    "backprop": (backprop.BackpropRequest, backprop.run),
    "minibatch": (minibatch.MinibatchRequest, minibatch.run),
    "vanishing": (vanishing.VanishingRequest, vanishing.run),
    "batchnorm": (batchnorm.BatchnormRequest, batchnorm.run),
    "universal": (universal.UniversalRequest, universal.run),
}
CHAPTERS = tuple(LESSONS)
