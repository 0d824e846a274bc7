// The chapters of Learn mode, in the order of the text's sections.
import batchnorm from "./batchnorm.js";
import perceptron from "./perceptron.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [perceptron, vanishing, batchnorm, universal];
