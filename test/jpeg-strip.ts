/** Test helper: Motion JPEG as webcams send it. */

/** The picture without its DHT segments, as a webcam sends it. */
export function withoutHuffmanTables(jpeg: Uint8Array): Uint8Array<ArrayBuffer> {
  const kept: number[] = [0xff, 0xd8];
  let p = 2;
  for (;;) {
    const marker = jpeg[p + 1]!;
    if (marker === 0xda) break;
    const end = p + 2 + ((jpeg[p + 2]! << 8) | jpeg[p + 3]!);
    if (marker !== 0xc4) kept.push(...jpeg.subarray(p, end));
    p = end;
  }
  return Uint8Array.from([...kept, ...jpeg.subarray(p)]);
}
