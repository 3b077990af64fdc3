/**
 * Whether the disk has room for what a render still needs. Chromium caps an origin's quota at
 * what it uses plus the disk's free space (less a reserve it keeps), so quota - usage from
 * `navigator.storage.estimate()` is how much more this page can store.
 */

/** What the page shows when a render will not fit: its needs and the room there is. */
export interface RoomShortfall {
  readonly neededBytes: number;
  readonly freeBytes: number;
}

/** null when the render fits, or when the browser does not say how much room there is. */
export function roomShortfall(
  neededBytes: number,
  estimate: { usage?: number; quota?: number } | null,
): RoomShortfall | null {
  if (!estimate || estimate.quota === undefined || estimate.usage === undefined) return null;
  const freeBytes = Math.max(0, estimate.quota - estimate.usage);
  return neededBytes > freeBytes ? { neededBytes, freeBytes } : null;
}

/** How long an estimate may take before the page stops waiting for it. */
const ESTIMATE_TIMEOUT_MS = 5000;

/**
 * The browser's storage estimate, or null when there is none or it does not come in time (an
 * estimate has been seen to hang once the quota was exceeded).
 */
export async function storageEstimate(): Promise<{ usage?: number; quota?: number } | null> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.estimate) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ESTIMATE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([storage.estimate().catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}
