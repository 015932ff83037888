import type { LabelIssueOptions } from "./label-issues";

/**
 * The label finder's settings, chosen on measurements (docs/audit.md): 5 stratified folds; a
 * probe fitted for a fixed number of minibatch steps, so 100k images cost what 10k do; and a kNN
 * vote blended in, which catches flips the linear probe fits through.
 */
export const LABEL_DEFAULTS: LabelIssueOptions = {
  folds: 5,
  probe: { l2: 1e-3, steps: 300, batch: 256, learningRate: 0.01, seed: 0 },
  knn: 20,
  probeWeight: 0.7,
};
