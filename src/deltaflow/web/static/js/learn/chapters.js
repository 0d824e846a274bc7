// The chapters of Learn mode, in the order of the text's sections.
import activations from "./activations.js";
import batchnorm from "./batchnorm.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [activations, vanishing, batchnorm, universal];
