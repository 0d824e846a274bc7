// The chapters of Learn mode, in the order of the text's sections.
import batchnorm from "./batchnorm.js";
import linear from "./linear.js";
import minibatch from "./minibatch.js";
import universal from "./universal.js";
import vanishing from "./vanishing.js";

export const CHAPTERS = [linear, minibatch, vanishing, batchnorm, universal];
