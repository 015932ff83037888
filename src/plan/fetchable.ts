import { TlrunError } from "../errors";
import { offlineAdvice } from "../models/weights/offline";
import { whyUnreachable } from "../models/weights/reachable";
import type { SourceStatus } from "./sources";

/**
 * Refuses a run whose base weights are not here and cannot be fetched, before any stage starts
 * or a run record is written: the weights stage would otherwise fail after the data stage ran,
 * leaving a failed run behind. Only weights still to download are probed (one HEAD request), so
 * cached weights, a local `base.weights` file and the embedded mobilenet_v2 cost nothing.
 * Throws the offline paragraph (the file, its hash, where to put it), exit 1.
 */
export async function checkWeightsFetchable(weights: SourceStatus, timeoutMs?: number): Promise<void> {
  if (weights.ready || !weights.download) return;
  const { arch, file } = weights.download;
  const reason = await whyUnreachable(file.url!, timeoutMs);
  if (reason) throw new TlrunError(offlineAdvice(arch, file, reason), 1);
}
