// The chapters of Learn mode, in the order of the text's sections.
import activations from "./activations.js";
import backprop from "./backprop.js";
import batchnorm from "./batchnorm.js";
import forward from "./forward.js";
import linear from "./linear.js";
import minibatch from "./minibatch.js";
import perceptron from "./perceptron.js";
import softmax from "./softmax.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [perceptron, forward, linear, activations, softmax, backprop, minibatch, vanishing, batchnorm, universal];
