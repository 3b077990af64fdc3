/** Boxes of an mp4box-parsed file that mp4box does not expose in its track info. */
import type { ISOFile, Track } from 'mp4box';

export interface BoxLike {
  type?: string;
  start?: number;
  size?: number;
  hdr_size?: number;
}

export function trak(
  file: ISOFile,
  id: number,
): { mdia: { minf: { stbl: { stsd: { entries: unknown[] } } } } } | undefined {
  const moov = file.moov as unknown as { traks: { tkhd: { track_id: number } }[] } | undefined;
  return moov?.traks.find((t) => t.tkhd.track_id === id) as ReturnType<typeof trak>;
}

export function isSound(file: ISOFile, t: Track): boolean {
  return handler(file, t.id) === 'soun';
}

/**
 * Of a file's tracks of one kind, the one a player plays: the first enabled one (the tkhd flag
 * ffmpeg sets for its "default" track; a camera's commentary or second language is disabled),
 * else the first.
 */
export function playedFirst(file: ISOFile, tracks: readonly Track[]): Track | undefined {
  const enabled = (t: Track): boolean => {
    const flags = (trak(file, t.id) as unknown as { tkhd?: { flags?: number } } | undefined)?.tkhd
      ?.flags;
    return flags === undefined || (flags & 1) === 1;
  };
  return tracks.find(enabled) ?? tracks[0];
}

export function handler(file: ISOFile, id: number): string | undefined {
  return (trak(file, id) as unknown as { mdia?: { hdlr?: { handler?: string } } } | undefined)?.mdia
    ?.hdlr?.handler;
}

export function sampleEntry(file: ISOFile, id: number): Record<string, unknown> | undefined {
  return trak(file, id)?.mdia.minf.stbl.stsd.entries[0] as Record<string, unknown> | undefined;
}

export function configBox(file: ISOFile, id: number): BoxLike | undefined {
  const entry = sampleEntry(file, id);
  if (!entry) return undefined;
  for (const type of ['avcC', 'hvcC', 'av1C', 'vpcC']) {
    const box = entry[type] as BoxLike | undefined;
    if (box?.start !== undefined) return box;
  }
  return undefined;
}

/** The box's bytes as stored (not re-serialised): exactly what the encoder wrote. */
export async function readBoxPayload(blob: Blob, box: BoxLike): Promise<Uint8Array<ArrayBuffer>> {
  const start = box.start! + (box.hdr_size ?? 8);
  return new Uint8Array(await blob.slice(start, box.start! + box.size!).arrayBuffer());
}

/** An MP4 Opus sample entry's dOps box as mp4box parses it. */
export interface DOpsBox {
  OutputChannelCount: number;
  PreSkip: number;
  InputSampleRate: number;
  OutputGain: number;
  ChannelMappingFamily: number;
  StreamCount: number;
  CoupledCount: number;
  ChannelMapping?: number[];
}

export function opusHead(d: DOpsBox): Uint8Array<ArrayBuffer> {
  // dOps is OpusHead big-endian without the magic; WebCodecs wants the Ogg OpusHead (little-endian).
  const mapping =
    d.ChannelMappingFamily === 0
      ? []
      : [d.StreamCount, d.CoupledCount, ...(d.ChannelMapping ?? [])];
  const out = new Uint8Array(19 + mapping.length);
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64], 0);
  view.setUint8(8, 1);
  view.setUint8(9, d.OutputChannelCount);
  view.setUint16(10, d.PreSkip, true);
  view.setUint32(12, d.InputSampleRate, true);
  view.setInt16(16, d.OutputGain, true);
  view.setUint8(18, d.ChannelMappingFamily);
  out.set(mapping, 19);
  return out;
}
