/** MLflow tracking: a REST client, a tracker that follows runs, and `tlrun sync`'s replay. */
export { MlflowClient, encodeDouble } from "./client";
export { MlflowError } from "./http";
export { MlflowTracker, trackerFromEnv } from "./observer";
export { serverFromEnv, targetFrom } from "./settings";
export { syncRun, type SyncResult } from "./sync";
