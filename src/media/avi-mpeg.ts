/**
 * MPEG-1 and MPEG-2 video in AVI (capture cards, some camcorders' and editors' exports, and
 * `ffmpeg -c:v mpeg2video out.avi`): a chunk is a coded picture, stored in decode order, which
 * AVI takes for display order. With B-frames that order is wrong, so each picture's display place
 * comes from its picture header: the temporal reference counts pictures from its GOP's first
 * shown one, and a GOP shows as many pictures as it holds.
 */
import type { AviH264 } from './avi-h264.ts';
import { bytesAt, type Chunk, type Stream } from './avi-riff.ts';
import { BitReader } from './mpeg2/bits.ts';
import { readPictureHeader } from './mpeg2/headers.ts';
import { sequenceFacts, sequenceHeaderBytes } from './mpeg2/stream-facts.ts';

/** FourCCs of MPEG-1/MPEG-2 video in AVI (upper case). */
const MPEG_FOURCCS: Record<string, 'mpeg1' | 'mpeg2'> = {
  MPG1: 'mpeg1',
  PIM1: 'mpeg1',
  MPG2: 'mpeg2',
  MPEG: 'mpeg2',
  PIM2: 'mpeg2',
  MMES: 'mpeg2',
};

/** The MPEG video this stream's FourCC names, or null. */
export function aviMpegCodec(tag: string): 'mpeg1' | 'mpeg2' | null {
  return MPEG_FOURCCS[tag] ?? null;
}

interface PictureHead {
  /** A GOP header comes before the picture. */
  readonly gop: boolean;
  readonly temporalReference: number;
  /** picture_coding_type: 1 I, 2 P, 3 B. */
  readonly type: number;
}

/** One reader for every chunk's head (it keeps its buffer). */
const headReader = new BitReader();

/** The picture header in a chunk's first bytes, or null when they do not reach it. */
export function pictureHead(bytes: Uint8Array): PictureHead | null {
  const bits = headReader;
  bits.load(bytes);
  let gop = false;
  for (let code = bits.nextStartCode(); code >= 0; code = bits.nextStartCode()) {
    if (code === 0xb8) gop = true;
    else if (code === 0) {
      // the 13 bits that say the picture's place and type (a header cut shorter reads zeros)
      if (bits.pos + 13 > bits.length * 8) return null;
      const { temporalReference, type } = readPictureHeader(bits);
      return { gop, temporalReference, type };
    }
  }
  return null;
}

/**
 * For MPEG video: its decoder configuration, each chunk's key flag (I pictures) and, with
 * B-frames, each chunk's display place. Null for other video. Chunks whose picture header cannot
 * be read keep their place as they are stored.
 */
export async function aviMpeg(
  blob: Blob,
  s: Stream,
  chunks: Chunk[][],
  size: { readonly width: number; readonly height: number; readonly tag: string },
): Promise<AviH264 | null> {
  const codec = aviMpegCodec(size.tag);
  if (!codec) return null;
  const all = chunks[s.number]!;
  const head = async (c: Chunk, n = 1024): Promise<Uint8Array> => {
    const bytes = await bytesAt(blob, c.offset, Math.min(c.size, n));
    return pictureHead(bytes) || bytes.length >= c.size || n >= 64 * 1024 ? bytes : head(c, n * 8);
  };
  const heads: (PictureHead | null)[] = [];
  let description: Uint8Array | null = null;
  for (const c of all) {
    if (c.size === 0 || c.offset + c.size > blob.size) {
      heads.push(null);
      continue;
    }
    const bytes = await head(c);
    description ??= sequenceHeaderBytes(bytes);
    heads.push(pictureHead(bytes));
  }
  chunks[s.number] = all.map((c, k) => ({ ...c, key: heads[k]?.type === 1 }));
  // display places: each GOP's pictures fill the slots from its first one in decode order
  let gopStart = 0;
  let reordered = false;
  const places = heads.map((h, k) => {
    if (!h) return k;
    if (h.gop || (k > 0 && h.type === 1 && h.temporalReference === 0)) gopStart = k;
    if (gopStart + h.temporalReference !== k) reordered = true;
    return gopStart + h.temporalReference;
  });
  // a damaged header could give two pictures one place: then the stored order stands (and the
  // frame sink says so if it is not the shown one)
  const taken = new Set(places);
  if (taken.size !== places.length || places.some((p) => p < 0 || p >= places.length)) {
    reordered = false;
  }
  const facts = description && sequenceFacts(description);
  const config: VideoDecoderConfig = {
    codec,
    codedWidth: facts?.width ?? size.width,
    codedHeight: facts?.height ?? size.height,
  };
  if (description) config.description = description;
  return {
    config,
    ...(reordered ? { places } : {}),
    withParameterSets: null,
    lengthSize: 0,
    width: facts?.width ?? size.width,
    height: facts?.height ?? size.height,
  };
}
