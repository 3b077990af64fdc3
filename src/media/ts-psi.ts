/**
 * The elementary streams an MPEG transport stream declares, from its program tables (PAT and PMT,
 * ISO/IEC 13818-1 2.4.4). mediabunny reads H.264, HEVC and the common audio codecs out of a
 * transport stream and leaves every other stream out without a word: a TV recording in MPEG-2
 * video would then read as "sound but no picture". The tables say what the file holds: MPEG-1/2
 * video is read by Upframe's own reader (mpeg-ts-input.ts), and any other codec is named.
 */

/** Stream types (Table 2-34 and the registered ones in use) that carry video. */
const VIDEO_TYPES: Readonly<Record<number, string>> = {
  0x01: 'MPEG-1 video',
  0x02: 'MPEG-2 video',
  0x10: 'MPEG-4 Part 2 video',
  0x1b: 'H.264',
  0x20: 'H.264 MVC',
  0x24: 'HEVC',
  0x33: 'VVC',
  0x42: 'AVS',
  0xd1: 'Dirac',
  0xea: 'VC-1',
};

/** Stream types that carry audio (0x80-0x86 as Blu-ray and ATSC use them). */
const AUDIO_TYPES: Readonly<Record<number, string>> = {
  0x03: 'MPEG audio',
  0x04: 'MPEG audio',
  0x0f: 'AAC',
  0x11: 'AAC (LATM)',
  0x80: 'LPCM',
  0x81: 'AC-3',
  0x82: 'DTS',
  0x83: 'Dolby TrueHD',
  0x84: 'E-AC-3',
  0x85: 'DTS-HD',
  0x86: 'DTS-HD Master Audio',
  0x87: 'E-AC-3',
};

export interface TsStream {
  readonly pid: number;
  readonly streamType: number;
  readonly kind: 'video' | 'audio' | 'other';
  /** What a person calls the codec, for `video` and `audio`. */
  readonly name: string;
  /**
   * The language its ISO 639 language descriptor gives (three letters, as written), or null: how
   * a TV recording or a Blu-ray says which audio is which (mediabunny 1.61 does not read it).
   */
  readonly language: string | null;
}

const PACKET = 188;

/**
 * Where the first packet's sync byte is and how far apart packets are, or null: a sync byte every
 * 188 bytes (TV recordings, .ts), every 192 after a 4-byte time code (AVCHD camcorders'
 * .mts/.m2ts, Blu-ray) or every 204 (188 + 16 bytes of error correction); three in a row, so a
 * file that merely starts with 0x47 is not taken for one.
 */
export function packetLayout(bytes: Uint8Array): { first: number; stride: number } | null {
  for (const [first, stride] of [
    [0, 188],
    [4, 192],
    [0, 204],
  ] as const) {
    if ([0, 1, 2].every((k) => bytes[first + k * stride] === 0x47)) return { first, stride };
  }
  return null;
}

/**
 * The streams of every program in the first `scanBytes` of the file (tables repeat several
 * times a second, so a few megabytes hold them). Empty when no PMT was found there.
 */
/** Bytes `packetLayout` looks at: three packets of the longest kind. */
export const LAYOUT_BYTES = 3 * 204;

export async function tsStreams(blob: Blob, scanBytes = 4 << 20): Promise<TsStream[]> {
  const bytes = new Uint8Array(await blob.slice(0, Math.min(blob.size, scanBytes)).arrayBuffer());
  return parseTsStreams(bytes);
}

export function parseTsStreams(bytes: Uint8Array): TsStream[] {
  const layout = packetLayout(bytes);
  if (!layout) return [];
  const sections = new SectionReader();
  const pmtPids = new Set<number>();
  const pmtDone = new Set<number>();
  const streams = new Map<number, TsStream>();
  let patSeen = false;
  for (let at = layout.first; at + PACKET <= bytes.length; at += layout.stride) {
    const packet = bytes.subarray(at, at + PACKET);
    if (packet[0] !== 0x47) break; // lost sync: a damaged file; what was read stands
    const pid = ((packet[1]! & 0x1f) << 8) | packet[2]!;
    const wanted = pid === 0 ? !patSeen : pmtPids.has(pid) && !pmtDone.has(pid);
    if (!wanted) continue;
    const section = sections.push(pid, packet);
    if (!section) continue;
    if (pid === 0 && section[0] === 0x00) {
      patSeen = true;
      for (const program of patPrograms(section)) pmtPids.add(program);
    } else if (section[0] === 0x02) {
      pmtDone.add(pid);
      for (const stream of pmtStreams(section)) streams.set(stream.pid, stream);
    }
    if (patSeen && pmtPids.size > 0 && pmtDone.size === pmtPids.size) break;
  }
  return [...streams.values()];
}

/** Gathers one PSI section per PID across packets (a PMT with many streams spans two). */
class SectionReader {
  private readonly partial = new Map<number, { bytes: number[]; length: number }>();

  push(pid: number, packet: Uint8Array): Uint8Array | null {
    const unitStart = (packet[1]! & 0x40) !== 0;
    const control = (packet[3]! >> 4) & 3;
    if ((control & 1) === 0) return null; // no payload
    let from = 4;
    if (control & 2) from += 1 + packet[4]!;
    if (from >= PACKET) return null;
    let payload = packet.subarray(from);
    let part = this.partial.get(pid);
    if (unitStart) {
      payload = payload.subarray(1 + payload[0]!); // pointer_field
      if (payload.length < 3) return null;
      const length = 3 + (((payload[1]! & 0x0f) << 8) | payload[2]!);
      part = { bytes: [], length };
      this.partial.set(pid, part);
    }
    if (!part) return null;
    for (let i = 0; i < payload.length && part.bytes.length < part.length; i++) {
      part.bytes.push(payload[i]!);
    }
    if (part.bytes.length < part.length) return null;
    this.partial.delete(pid);
    return Uint8Array.from(part.bytes);
  }
}

/** PMT PIDs from a PAT section (program 0 is the network PID, not a program). */
function patPrograms(section: Uint8Array): number[] {
  const end = section.length - 4; // CRC_32
  const out: number[] = [];
  for (let i = 8; i + 4 <= end; i += 4) {
    const program = (section[i]! << 8) | section[i + 1]!;
    if (program !== 0) out.push(((section[i + 2]! & 0x1f) << 8) | section[i + 3]!);
  }
  return out;
}

function pmtStreams(section: Uint8Array): TsStream[] {
  const end = section.length - 4;
  const infoLength = ((section[10]! & 0x0f) << 8) | section[11]!;
  const out: TsStream[] = [];
  for (let i = 12 + infoLength; i + 5 <= end;) {
    const streamType = section[i]!;
    const pid = ((section[i + 1]! & 0x1f) << 8) | section[i + 2]!;
    const esInfo = ((section[i + 3]! & 0x0f) << 8) | section[i + 4]!;
    const descriptors = section.subarray(i + 5, Math.min(end, i + 5 + esInfo));
    const video = VIDEO_TYPES[streamType];
    const audio =
      AUDIO_TYPES[streamType] ?? (streamType === 0x06 ? privateAudio(descriptors) : null);
    out.push({
      pid,
      streamType,
      kind: video ? 'video' : audio ? 'audio' : 'other',
      name: video ?? audio ?? `stream type 0x${streamType.toString(16).padStart(2, '0')}`,
      language: languageIn(descriptors),
    });
    i += 5 + esInfo;
  }
  return out;
}

/**
 * The audio a PES private data stream (type 0x06) carries by its descriptors, as DVB (ETSI EN
 * 300 468 annex D) and some muxers' registration descriptors say it, or null.
 */
function privateAudio(descriptors: Uint8Array): string | null {
  for (let at = 0; at + 2 <= descriptors.length;) {
    const tag = descriptors[at]!;
    const length = descriptors[at + 1]!;
    if (tag === 0x6a) return 'AC-3';
    if (tag === 0x7a) return 'E-AC-3';
    if (tag === 0x7b) return 'DTS';
    if (tag === 0x05 && length >= 4) {
      const id = String.fromCharCode(...descriptors.subarray(at + 2, at + 6));
      if (id === 'AC-3') return 'AC-3';
      if (id === 'EAC3') return 'E-AC-3';
    }
    at += 2 + length;
  }
  return null;
}

/** ISO_639_language_descriptor (2.6.18). */
const LANGUAGE_DESCRIPTOR = 0x0a;

/** The first language of a stream's descriptors, in lower case, or null. */
function languageIn(descriptors: Uint8Array): string | null {
  for (let at = 0; at + 2 <= descriptors.length;) {
    const tag = descriptors[at]!;
    const length = descriptors[at + 1]!;
    if (tag === LANGUAGE_DESCRIPTOR && length >= 4 && at + 2 + 3 <= descriptors.length) {
      const code = String.fromCharCode(...descriptors.subarray(at + 2, at + 5)).toLowerCase();
      return /^[a-z]{3}$/.test(code) ? code : null;
    }
    at += 2 + length;
  }
  return null;
}
