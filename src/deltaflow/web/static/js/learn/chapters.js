// The chapters of Learn mode, in the order of the text's sections.
import batchnorm from "./batchnorm.js";
import softmax from "./softmax.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [softmax, vanishing, batchnorm, universal];
