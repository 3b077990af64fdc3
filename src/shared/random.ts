/** Small seeded PRNG (mulberry32) for deterministic tests, fixtures and generated packs. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(count: number, seed: number): Uint8Array<ArrayBuffer> {
  const rand = mulberry32(seed);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export function randomFloats(
  count: number,
  seed: number,
  lo = 0,
  hi = 1,
): Float32Array<ArrayBuffer> {
  const rand = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}
