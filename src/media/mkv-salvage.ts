/**
 * A Matroska/WebM file cut short (an interrupted download or copy, a recording that stopped)
 * inside a cluster. mediabunny 1.61 drops a cluster whose declared size runs past the end of the
 * file, or whose size is unknown and whose last block is cut, with every block in it. ffmpeg and
 * mkvmerge write clusters of up to 5 s, so a cut clip of 5 s or less lost all its frames, and a
 * longer one lost up to 5 s at its end. ffmpeg itself reads the blocks that are whole.
 *
 * `salvageCutCluster` finds that cluster and gives a view of the file in which a sized cluster's
 * size field (rewritten with the same byte length, so nothing after it moves) covers only the
 * blocks that are whole, and the file ends after them (a cluster of unknown size just ends
 * there). The view is a Blob made of slices of the original: nothing is copied but one size
 * field. Matroska element layout: RFC 8794 (EBML) and RFC 9559.
 */

const EBML_HEADER = 0x1a45dfa3;
const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const TIMESTAMP = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;

/** Top-level elements that may follow a cluster of unknown size, which it then ends before. */
const LEVEL_1 = new Set([
  CLUSTER,
  0x1c53bb6b, // Cues
  0x1254c367, // Tags
  0x1043a770, // Chapters
  0x1941a469, // Attachments
  0x114d9b74, // SeekHead
  0x1549a966, // Info
  0x1654ae6b, // Tracks
]);

/** How far from the end the last cluster of unknown size is looked for. */
const TAIL_SEARCH_BYTES = 64 * 2 ** 20;
const TAIL_CHUNK_BYTES = 2 ** 20;

/** An element's header: its ID (marker bits kept), its data size, and where each part lies. */
export interface ElementHeader {
  readonly id: number;
  /** Null when the size is "unknown" (all value bits set: a live stream). */
  readonly size: number | null;
  readonly sizeAt: number;
  readonly sizeLength: number;
  readonly dataAt: number;
}

/** A variable-length integer at `at`: null when it runs past the bytes or is malformed. */
export function readVint(
  bytes: Uint8Array,
  at: number,
  keepMarker: boolean,
): { value: number; length: number; allOnes: boolean } | null {
  if (at >= bytes.length) return null;
  const first = bytes[at]!;
  if (first === 0) return null; // a length over 8 bytes: not valid EBML
  let length = 1;
  while (!(first & (0x80 >> (length - 1)))) length++;
  if (at + length > bytes.length) return null;
  const mask = 0xff >> length;
  let value = keepMarker ? first : first & mask;
  let allOnes = (first & mask) === mask;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[at + i]!;
    if (bytes[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, allOnes };
}

/** The header of the element at `base + at` (bytes holds the file from `base`). */
export function readHeader(bytes: Uint8Array, at: number, base: number): ElementHeader | null {
  const id = readVint(bytes, at, true);
  if (!id || id.length > 4) return null;
  const size = readVint(bytes, at + id.length, false);
  if (!size) return null;
  return {
    id: id.value,
    size: size.allOnes ? null : size.value,
    sizeAt: base + at + id.length,
    sizeLength: size.length,
    dataAt: base + at + id.length + size.length,
  };
}

async function headerAt(blob: Blob, at: number): Promise<ElementHeader | null> {
  // 4 bytes of ID and 8 of size at most
  const bytes = new Uint8Array(await blob.slice(at, at + 12).arrayBuffer());
  return readHeader(bytes, 0, at);
}

/** `value` as an EBML size field of exactly `length` bytes (value < 2^(7 length) - 1). */
export function sizeField(value: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  out[0]! |= 0x80 >> (length - 1);
  return out;
}

/**
 * The file with its cut last cluster closed after its last whole block, or null when the file is
 * not Matroska, is not cut inside a cluster (a whole file, a recording whose last cluster of
 * unknown size is whole, a cut in the index after the clusters), or the cut cluster holds no
 * whole block. Reads nothing more for a whole file whose segment has a size; otherwise one
 * element header per top-level element, or the last megabytes for clusters of unknown size,
 * and the cut cluster's bytes.
 */
export async function salvageCutCluster(blob: Blob): Promise<Blob | null> {
  const ebml = await headerAt(blob, 0);
  if (!ebml || ebml.id !== EBML_HEADER || ebml.size === null) return null;
  const segment = await headerAt(blob, ebml.dataAt + ebml.size);
  if (!segment || segment.id !== SEGMENT) return null;
  // A whole file declares a segment that fits. A live one (ffmpeg's -live, some recorders)
  // declares none: its clusters are walked to see whether the last one is whole.
  if (segment.size !== null && segment.dataAt + segment.size <= blob.size) return null;
  let at = segment.dataAt;
  for (;;) {
    const element = await headerAt(blob, at);
    // the cut falls between elements or inside a header: no element's data is cut
    if (!element || element.dataAt > blob.size) return null;
    // Clusters of unknown size (MediaRecorder's) end where the next one starts: only the last
    // one, found from the end of the file, can be cut.
    if (element.size === null) return element.id === CLUSTER ? closeUnsizedTail(blob) : null;
    const end = element.dataAt + element.size;
    if (end <= blob.size) {
      at = end;
      continue;
    }
    if (element.id !== CLUSTER) return null;
    return closeCluster(blob, element);
  }
}

async function closeCluster(blob: Blob, cluster: ElementHeader): Promise<Blob | null> {
  const bytes = new Uint8Array(await blob.slice(cluster.dataAt, blob.size).arrayBuffer());
  let at = 0;
  let wholeEnd = 0;
  let blocks = 0;
  for (;;) {
    const child = readHeader(bytes, at, cluster.dataAt);
    if (!child || child.size === null) break;
    const end = child.dataAt - cluster.dataAt + child.size;
    if (end > bytes.length) break;
    if (child.id === SIMPLE_BLOCK || child.id === BLOCK_GROUP) blocks++;
    wholeEnd = end;
    at = end;
  }
  if (blocks === 0) return null;
  return new Blob([
    blob.slice(0, cluster.sizeAt),
    sizeField(wholeEnd, cluster.sizeLength) as Uint8Array<ArrayBuffer>,
    blob.slice(cluster.dataAt, cluster.dataAt + wholeEnd),
  ]);
}

/**
 * A recording in clusters of unknown size (MediaRecorder writes them so) cut inside its last
 * cluster: mediabunny drops that cluster when its last block is cut. The file up to the last
 * whole element of that cluster reads as a whole recording. The cluster is found by its ID from
 * the end of the file (checked: a Timestamp must follow its header, as writers put it first).
 */
async function closeUnsizedTail(blob: Blob): Promise<Blob | null> {
  const floor = Math.max(0, blob.size - TAIL_SEARCH_BYTES);
  for (let end = blob.size; end > floor; end -= TAIL_CHUNK_BYTES - 3) {
    const start = Math.max(floor, end - TAIL_CHUNK_BYTES);
    const chunk = new Uint8Array(await blob.slice(start, end).arrayBuffer());
    for (let i = chunk.length - 4; i >= 0; i--) {
      if (chunk[i] !== 0x1f || chunk[i + 1] !== 0x43) continue;
      if (chunk[i + 2] !== 0xb6 || chunk[i + 3] !== 0x75) continue;
      const cluster = await headerAt(blob, start + i);
      if (!cluster || cluster.size !== null) continue;
      const first = await headerAt(blob, cluster.dataAt);
      if (!first || first.id !== TIMESTAMP) continue;
      return closeAtLastWhole(blob, cluster);
    }
    if (start === floor) break;
  }
  return null;
}

async function closeAtLastWhole(blob: Blob, cluster: ElementHeader): Promise<Blob | null> {
  const bytes = new Uint8Array(await blob.slice(cluster.dataAt, blob.size).arrayBuffer());
  let at = 0;
  for (;;) {
    if (at === bytes.length) return null; // ends on a whole element: nothing is cut
    const child = readHeader(bytes, at, cluster.dataAt);
    // a header cut short, or unreadable bytes: the file ends inside this element
    if (!child || child.size === null) break;
    if (LEVEL_1.has(child.id)) return null; // the cluster ended whole; something follows it
    const end = child.dataAt - cluster.dataAt + child.size;
    if (end > bytes.length) break;
    at = end;
  }
  return blob.slice(0, cluster.dataAt + at);
}
