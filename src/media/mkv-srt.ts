/**
 * Subtitle tracks written as SRT (S_TEXT/UTF8) into Matroska. mediabunny 1.61 writes text
 * subtitles only as S_TEXT/WEBVTT, which ffmpeg's Matroska reader (and so most players built on
 * it: Jellyfin, Plex, Kodi) and VLC do not read. A block of S_TEXT/WEBVTT holds the cue's text
 * alone, as a block of S_TEXT/UTF8 does, so the track is the same but for its header: this
 * renames the CodecID as mediabunny writes it (a String may end in 0x00 padding, RFC 8794
 * section 7.4, so the element keeps its size) and blanks the CodecPrivate ("WEBVTT", which SRT
 * has none of) into a Void element of the same size. subtitle-text.ts gives the cues SRT's text.
 */
import type { StreamTargetChunk } from 'mediabunny';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** CodecID (0x86), 13 bytes, "S_TEXT/WEBVTT". */
const WEBVTT_ID = Uint8Array.from([0x86, 0x8d, ...ascii('S_TEXT/WEBVTT')]);
const SRT_ID = Uint8Array.from([0x86, 0x8d, ...ascii('S_TEXT/UTF8'), 0, 0]);
/** CodecPrivate (0x63a2), 6 bytes, "WEBVTT": the preamble subtitle-text.ts writes. */
const WEBVTT_PRIVATE = Uint8Array.from([0x63, 0xa2, 0x86, ...ascii('WEBVTT')]);
/** Void (0xec) over the same 9 bytes. */
const VOID_9 = Uint8Array.from([0xec, 0x87, 0, 0, 0, 0, 0, 0, 0]);

function indexOf(data: Uint8Array, pattern: Uint8Array, from: number): number {
  const first = pattern[0]!;
  for (let i = data.indexOf(first, from); i >= 0 && i + pattern.length <= data.length;) {
    let j = 1;
    while (j < pattern.length && data[i + j] === pattern[j]) j++;
    if (j === pattern.length) return i;
    i = data.indexOf(first, i + 1);
  }
  return -1;
}

/** `data` with every `pattern` replaced by `by` (same length), and how many there were. */
export function replaceAll(
  data: Uint8Array<ArrayBuffer>,
  pattern: Uint8Array,
  by: Uint8Array,
): { data: Uint8Array<ArrayBuffer>; count: number } {
  let out = data;
  let count = 0;
  for (let at = indexOf(data, pattern, 0); at >= 0; at = indexOf(data, pattern, at + 1)) {
    if (out === data) out = data.slice();
    out.set(by, at);
    count++;
  }
  return { data: out, count };
}

/**
 * The muxer's output stream with its WebVTT subtitle tracks renamed SRT. mediabunny 1.61 writes
 * the Tracks element once, whole, in its first write (and at the end rewrites only the segment's
 * size, duration and SeekHead): writes are scanned until every track is renamed.
 */
export class SrtTracks {
  /** Track headers renamed so far. */
  renamed = 0;
  private readonly writer: WritableStreamDefaultWriter<StreamTargetChunk>;
  readonly stream: WritableStream<StreamTargetChunk>;

  constructor(
    inner: WritableStream<StreamTargetChunk>,
    private readonly tracks: number,
  ) {
    this.writer = inner.getWriter();
    this.stream = new WritableStream<StreamTargetChunk>({
      write: async (chunk) => {
        let data = chunk.data;
        if (chunk.type === 'write' && this.renamed < this.tracks) {
          const ids = replaceAll(data, WEBVTT_ID, SRT_ID);
          data = replaceAll(ids.data, WEBVTT_PRIVATE, VOID_9).data;
          this.renamed += ids.count;
        }
        await this.writer.write(data === chunk.data ? chunk : { ...chunk, data });
      },
      close: () => this.writer.close(),
      abort: (reason: unknown) => this.writer.abort(reason),
    });
  }
}
