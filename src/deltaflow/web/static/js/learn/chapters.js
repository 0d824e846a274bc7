// The chapters of Learn mode, in the order of the text's sections.
import batchnorm from "./batchnorm.js";
import forward from "./forward.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [forward, vanishing, batchnorm, universal];
