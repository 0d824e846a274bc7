// The chapters of Learn mode, in the order of the text's sections.
import backprop from "./backprop.js";
import batchnorm from "./batchnorm.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [backprop, vanishing, batchnorm, universal];
