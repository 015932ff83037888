/**
 * Which tfjs-node package's backend loaded in this process (tfjs-node or tfjs-node-gpu), if any.
 * backend/select.ts records it when it loads one; the private-API pins (pins.ts) read it.
 */
let loaded: string | undefined;

export function setNativePackage(name: string): void {
  loaded = name;
}

/** The tfjs-node package whose backend loaded in this process, if any. */
export function nativePackage(): string | undefined {
  return loaded;
}
