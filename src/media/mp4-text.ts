/**
 * An MP4/MOV file's timed-text subtitles (3GPP 'tx3g', what ffmpeg's mov_text and HandBrake
 * write; ISO/IEC 14496-17 and 3GPP TS 26.245): each sample is a 16-bit text length, the text
 * (UTF-8, or UTF-16 after a byte-order mark), then boxes: a 'styl' box's bold, italic and
 * underlined runs become SRT's tags; fonts, sizes, colours and placement are not kept. A sample
 * with no text is the gap between two lines.
 */
import type { ISOFile, Movie, Track } from 'mp4box';
import { trak } from './mp4-boxes.ts';
import { trackNames } from './mp4-sound.ts';
import { editListShift } from './mp4-input.ts';
import {
  windowCues,
  type SubtitleCopy,
  type SubtitleCue,
  type SubtitleTrackInfo,
  type TimeWindow,
} from './subtitle-text.ts';

/** Where a text track's samples are and when they show, in microseconds of the file's time. */
export interface TextTable {
  readonly info: SubtitleTrackInfo;
  readonly offsets: Float64Array;
  readonly sizes: Uint32Array;
  readonly startUs: Float64Array;
  readonly durationUs: Float64Array;
}

/** The file's tx3g tracks, with their sample tables. */
export function textTables(file: ISOFile, movie: Movie): TextTable[] {
  return movie.subtitleTracks
    .filter((t) => t.codec.startsWith('tx3g'))
    .map((track) => tableOf(file, track));
}

function tableOf(file: ISOFile, track: Track): TextTable {
  const samples = file.getTrackSamplesInfo(track.id);
  const { shiftTicks, offsetUs } = editListShift(track);
  const scale = 1e6 / track.timescale;
  const n = samples.length;
  const table = {
    offsets: new Float64Array(n),
    sizes: new Uint32Array(n),
    startUs: new Float64Array(n),
    durationUs: new Float64Array(n),
  };
  samples.forEach((s, k) => {
    table.offsets[k] = s.offset;
    table.sizes[k] = s.size;
    table.startUs[k] = Math.round((s.cts - shiftTicks) * scale + offsetUs);
    table.durationUs[k] = Math.round(s.duration * scale);
  });
  const { language, title } = trackNames(file, track);
  // tkhd flag 1: enabled (ffmpeg's "default" track); forced lines are not flagged
  const tkhd = (trak(file, track.id) as unknown as { tkhd?: { flags?: number } } | undefined)?.tkhd;
  const enabled = (tkhd?.flags ?? 1) & 1;
  return {
    info: {
      id: track.id,
      kind: 'text',
      language,
      title,
      isDefault: enabled === 1,
      forced: false,
      hearingImpaired: false,
    },
    ...table,
  };
}

const utf8 = new TextDecoder();
const utf16 = new TextDecoder('utf-16be');

/** A run of characters in bold, italics or underline (a 'styl' box's record). */
interface StyleRun {
  readonly from: number;
  readonly to: number;
  /** face-style-flags: 1 bold, 2 italic, 4 underline. */
  readonly face: number;
}

/** The style runs of the boxes after a sample's text (only 'styl' is read). */
function styleRuns(bytes: Uint8Array, at: number): StyleRun[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const runs: StyleRun[] = [];
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at);
    if (size < 8 || at + size > bytes.length) break;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'styl' && size >= 10) {
      const count = view.getUint16(at + 8);
      for (let k = 0; k < count && at + 10 + 12 * (k + 1) <= at + size; k++) {
        const r = at + 10 + 12 * k;
        runs.push({ from: view.getUint16(r), to: view.getUint16(r + 2), face: bytes[r + 6]! & 7 });
      }
    }
    at += size;
  }
  return runs.filter((r) => r.face !== 0 && r.to > r.from).sort((a, b) => a.from - b.from);
}

const TAGS = [
  [1, 'b'],
  [2, 'i'],
  [4, 'u'],
] as const;

/** The text with its bold, italic and underlined runs as SRT's tags (offsets in characters). */
function tagged(text: string, runs: readonly StyleRun[]): string {
  if (runs.length === 0) return text;
  const chars = Array.from(text);
  const open = (face: number): string =>
    TAGS.filter(([bit]) => face & bit)
      .map(([, t]) => `<${t}>`)
      .join('');
  const close = (face: number): string =>
    TAGS.filter(([bit]) => face & bit)
      .map(([, t]) => `</${t}>`)
      .reverse()
      .join('');
  let out = '';
  let at = 0;
  for (const run of runs) {
    const from = Math.max(at, Math.min(run.from, chars.length));
    const to = Math.min(run.to, chars.length);
    if (to <= from) continue;
    out += chars.slice(at, from).join('') + open(run.face) + chars.slice(from, to).join('');
    out += close(run.face);
    at = to;
  }
  return out + chars.slice(at).join('');
}

/** A tx3g sample's text ('' for a gap), its bold, italic and underlined runs tagged as SRT's. */
export function sampleText(bytes: Uint8Array): string {
  if (bytes.length < 2) return '';
  const length = Math.min((bytes[0]! << 8) | bytes[1]!, bytes.length - 2);
  const raw = bytes.subarray(2, 2 + length);
  const text =
    raw[0] === 0xfe && raw[1] === 0xff ? utf16.decode(raw.subarray(2)) : utf8.decode(raw);
  return tagged(text, styleRuns(bytes, 2 + length));
}

/** Each track's lines in the window, in the output's time; tracks with none are left out. */
export async function readTextTables(
  blob: Blob,
  tables: readonly TextTable[],
  window: TimeWindow,
): Promise<SubtitleCopy[]> {
  const copies: SubtitleCopy[] = [];
  for (const t of tables) {
    const cues: SubtitleCue[] = [];
    for (let k = 0; k < t.offsets.length; k++) {
      const startUs = t.startUs[k]!;
      const durationUs = t.durationUs[k]!;
      if (startUs + durationUs <= window.fromUs || startUs >= window.toUs || t.sizes[k]! <= 2) {
        continue;
      }
      if (t.offsets[k]! + t.sizes[k]! > blob.size) break; // a file cut short
      const at = t.offsets[k]!;
      const bytes = new Uint8Array(await blob.slice(at, at + t.sizes[k]!).arrayBuffer());
      cues.push({ startUs, durationUs, text: sampleText(bytes) });
    }
    const kept = windowCues('text', cues, window);
    if (kept.length > 0) copies.push({ info: t.info, cues: kept });
  }
  return copies;
}
