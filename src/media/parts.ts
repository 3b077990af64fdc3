/**
 * Render parts: the app renders into fragmented MP4 parts in the origin-private file system, and
 * joins them into the file the person asked for only at the end. A fragment (one keyframe
 * interval, video and audio) is complete on disk once written, so when the tab closes, crashes
 * or loses its GPU mid-render, every fragment before the one in flight is still there: the page
 * can save those frames, or continue the render from the first frame missing into a new part.
 *
 * durableLength() finds how much of a part is whole fragments (a cut inside a moof makes
 * mediabunny's reader fail, so a part is always read up to that length); assembleParts() remuxes
 * parts, packet for packet, into the final container.
 */
import {
  BlobSource,
  EncodedAudioPacketSource,
  EncodedPacketSink,
  EncodedVideoPacketSource,
  Input,
  MP4,
  Output,
  StreamTarget,
  type AudioCodec,
  type EncodedPacket,
  type InputAudioTrack,
  type InputVideoTrack,
} from 'mediabunny';
import { UpframeError } from '../shared/errors.ts';
import type { VideoCodecChoice } from './encoder-config.ts';
import { audioCodecName, trackLanguage } from './codecs.ts';
import {
  audioLeftOutNote,
  audioTrackMetadata,
  chooseContainer,
  holdsAudio,
  makeFormat,
  SubtitleWriter,
  type OutputContainer,
  type OutputFacts,
} from './output.ts';
import { displayAspect, pixelAspectOfShownSize } from './pixel-aspect.ts';
import type { SubtitleCopy } from './subtitle-text.ts';
import type { OutputTarget } from './targets.ts';

const utf8 = new TextDecoder();

async function boxHeader(
  file: Blob,
  at: number,
): Promise<{ type: string; size: number; header: number } | null> {
  if (at + 8 > file.size) return null;
  const bytes = new Uint8Array(await file.slice(at, Math.min(file.size, at + 16)).arrayBuffer());
  const view = new DataView(bytes.buffer);
  const type = utf8.decode(bytes.subarray(4, 8));
  const size32 = view.getUint32(0);
  if (size32 === 1) {
    if (bytes.byteLength < 16) return null;
    return { type, size: Number(view.getBigUint64(8)), header: 16 };
  }
  // 0 = "to the end of the file": a writer that did not finish; never a whole box here
  if (size32 < 8) return null;
  return { type, size: size32, header: 8 };
}

/**
 * Bytes of `part` that are whole fragments: ftyp, moov, then moof + mdat pairs, up to the end of
 * the last mdat that is all there. 0 when not even one fragment is.
 */
export async function durableLength(part: Blob): Promise<number> {
  let at = 0;
  let durable = 0;
  let sawMoov = false;
  let moofAt = -1;
  for (;;) {
    const box = await boxHeader(part, at);
    if (!box || at + box.size > part.size) return durable;
    if (box.type === 'moov') sawMoov = true;
    else if (box.type === 'moof') moofAt = at;
    else if (box.type === 'mdat' && sawMoov && moofAt >= 0) {
      durable = at + box.size;
      moofAt = -1;
    }
    at += box.size;
  }
}

export interface PartSlice {
  /** The part's bytes, cut to its durable length. */
  readonly blob: Blob;
  /** Take only this many video frames (decode order); undefined = all of them. */
  readonly frames?: number;
}

export interface AssembleOptions {
  /** As transcode's `container`: null = MP4 unless the audio needs WebM/MKV. */
  readonly container: OutputContainer | null;
  /**
   * True when the last part ran to the end of the render (its audio may run past its last frame,
   * as a whole-clip render's does); false for a render saved as far as it got, whose audio stops
   * where its last frame ends.
   */
  readonly complete: boolean;
  readonly signal?: AbortSignal;
  /**
   * The source's subtitle tracks for the render's range, in the render's time (the parts have
   * none); cut where the last frame ends.
   */
  readonly subtitles?: readonly SubtitleCopy[];
  /** Called after every video frame copied, with the count so far and the total. */
  readonly onProgress?: (framesDone: number, framesTotal: number) => void;
}

export type AssembleResult = OutputFacts;

interface OpenPart {
  readonly input: Input;
  readonly video: InputVideoTrack;
  /** Its audio tracks, in the order the render wrote them (the first-picked one first). */
  readonly audio: readonly InputAudioTrack[];
  readonly frames: number;
  /** First frame's timestamp, seconds. */
  readonly startS: number;
  /** End of its last frame (of the frames taken), seconds. */
  readonly endS: number;
}

async function openPart(slice: PartSlice, index: number): Promise<OpenPart> {
  const input = new Input({ source: new BlobSource(slice.blob), formats: [MP4] });
  try {
    const video = await input.getPrimaryVideoTrack();
    if (!video) throw new Error('no video track');
    const audio = await input.getAudioTracks();
    let frames = 0;
    let startS = Infinity;
    let endS = -Infinity;
    for await (const p of new EncodedPacketSink(video).packets(undefined, undefined, {
      metadataOnly: true,
    })) {
      if (slice.frames !== undefined && frames >= slice.frames) break;
      frames++;
      startS = Math.min(startS, p.timestamp);
      endS = Math.max(endS, p.timestamp + p.duration);
    }
    if (frames === 0) throw new Error('no frames');
    return { input, video, audio, frames, startS, endS };
  } catch (err) {
    input.dispose();
    throw new UpframeError(
      'CORRUPT_INPUT',
      `Part ${index + 1} of the render cannot be read (${err instanceof Error ? err.message : String(err)}).`,
      { cause: err },
    );
  }
}

function sameBytes(a: AllowSharedBufferSource | undefined, b: AllowSharedBufferSource | undefined) {
  if (!a || !b) return a === b;
  const x = ArrayBuffer.isView(a)
    ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    : new Uint8Array(a);
  const y = ArrayBuffer.isView(b)
    ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    : new Uint8Array(b);
  return x.byteLength === y.byteLength && x.every((v, i) => v === y[i]);
}

export interface PartExtent {
  /** Bytes of whole fragments (durableLength). */
  readonly bytes: number;
  /** Video frames in them. */
  readonly frames: number;
  /**
   * Where their audio ends (end of the last audio packet, seconds on the part's timeline), or
   * null without audio. A continuation copies the source's audio from here, not from its first
   * frame: the audio of the fragment that was lost lies between the two.
   */
  readonly audioEndS: number | null;
}

/** One audio track of a render, as found in each of its parts. */
interface AudioLaneOfParts {
  readonly codec: AudioCodec;
  readonly config: AudioDecoderConfig;
  readonly language: string | null;
  readonly title: string | null;
  /** The track in part i, or undefined where that part does not have it. */
  readonly tracks: (InputAudioTrack | undefined)[];
}

/**
 * The render's audio tracks across its parts. Every part is written with the same tracks in the
 * same order, but mediabunny leaves out a track that got no packet (a commentary that ended
 * before the part), and a part written by an earlier version may lack a language: a part's
 * track joins the lane of the same codec, channels, language and title first, else the first
 * lane of the same codec and channels that this part has not filled yet, in order.
 */
async function audioLanes(parts: readonly OpenPart[]): Promise<AudioLaneOfParts[]> {
  const lanes: (AudioLaneOfParts & { base: string; sound: string })[] = [];
  for (const [i, part] of parts.entries()) {
    for (const track of part.audio) {
      const codec = await track.getCodec();
      const config = await track.getDecoderConfig();
      if (!codec || !config) continue;
      const language = trackLanguage(track.languageCode);
      const title = track.name || null;
      const sound = `${codec}|${config.numberOfChannels}`;
      const base = `${sound}|${language ?? ''}|${title ?? ''}`;
      const free = lanes.filter((l) => l.tracks[i] === undefined);
      let lane = free.find((l) => l.base === base) ?? free.find((l) => l.sound === sound);
      if (!lane) {
        lane = { base, sound, codec, config, language, title, tracks: [] };
        lanes.push(lane);
      }
      lane.tracks[i] = track;
    }
  }
  return lanes;
}

/**
 * An audio track whose packets in a part end this much before the part's last frame has ended:
 * the tracks still running end within a packet of each other in a part's whole fragments
 * (MuxWriter adds audio just ahead of the frames it plays with).
 */
const RUNNING_S = 1;

/** What survives of a part: its whole fragments, their frames and where their audio ends. */
export async function partExtent(part: Blob): Promise<PartExtent> {
  const bytes = await durableLength(part);
  if (bytes === 0) return { bytes, frames: 0, audioEndS: null };
  const open = await openPart({ blob: part.slice(0, bytes) }, 0);
  try {
    // With several audio tracks, the earliest end of those still running where the frames end
    // (a commentary that ended long before is done): a continuation starts every track there,
    // and the join cuts each track where the next part's copy of it starts (no gap, no overlap).
    const ends: number[] = [];
    for (const track of open.audio) {
      const last = await new EncodedPacketSink(track).getPacket(Infinity, { metadataOnly: true });
      if (last) ends.push(last.timestamp + last.duration);
    }
    const running = ends.filter((e) => e >= open.endS - RUNNING_S);
    const audioEndS = ends.length === 0 ? null : Math.min(...(running.length > 0 ? running : ends));
    return { bytes, frames: open.frames, audioEndS };
  } finally {
    open.input.dispose();
  }
}

/** The lines that start before `endUs`, each cut there; tracks left with none are dropped. */
function cutSubtitles(copies: readonly SubtitleCopy[], endUs: number): SubtitleCopy[] {
  return copies
    .map((c) => ({
      info: c.info,
      cues: c.cues
        .filter((cue) => cue.startUs + 1000 <= endUs)
        .map((cue) => ({ ...cue, durationUs: Math.min(cue.durationUs, endUs - cue.startUs) })),
    }))
    .filter((c) => c.cues.length > 0);
}

/**
 * Joins parts into one file in `target` (committed on success, aborted on failure). Part i's audio
 * stops where part i + 1's audio starts (a continuation starts its audio where the durable audio
 * before it ended); timestamps are copied as they are (parts carry the render's own timeline).
 */
export async function assembleParts(
  slices: readonly PartSlice[],
  target: OutputTarget,
  opts: AssembleOptions,
): Promise<AssembleResult> {
  const parts: OpenPart[] = [];
  let output: Output | null = null;
  try {
    if (slices.length === 0) throw new UpframeError('INVALID_OPTION', 'A render has no parts.');
    for (const [i, slice] of slices.entries()) parts.push(await openPart(slice, i));
    const first = parts[0]!;
    const videoCodec = await first.video.getCodec();
    const videoConfig = await first.video.getDecoderConfig();
    if (!videoCodec || !videoConfig)
      throw new UpframeError('CORRUPT_INPUT', 'A render part has no video codec.');
    for (const [i, part] of parts.entries()) {
      const config = await part.video.getDecoderConfig();
      if (
        i > 0 &&
        (config?.codec !== videoConfig.codec ||
          !sameBytes(config.description, videoConfig.description))
      ) {
        throw new UpframeError(
          'ENCODER_FAILED',
          `The browser encoded part ${i + 1} of this render differently from part 1 ` +
            `(${config?.codec ?? 'unknown'} against ${videoConfig.codec}), so they cannot be joined.`,
        );
      }
    }
    // where each track starts in each part (null: the part has none of it); a track with no
    // packet in any part is not written
    const found = await audioLanes(parts);
    const starts = await Promise.all(
      parts.map((_, i) =>
        Promise.all(
          found.map(async (l) => {
            const track = l.tracks[i];
            if (!track) return null;
            const first = await new EncodedPacketSink(track).getFirstPacket({ metadataOnly: true });
            return first?.timestamp ?? null;
          }),
        ),
      ),
    );
    const lanes = found.filter((_, j) => starts.some((row) => row[j] !== null));
    const container = chooseContainer(
      opts.container ?? undefined,
      videoCodec as VideoCodecChoice,
      lanes[0]?.codec ?? null,
      lanes.slice(1).map((l) => l.codec),
      // (MKV, which keeps subtitles, cannot store a rotation)
      (opts.subtitles ?? []).length > 0 && first.video.rotation === 0,
    );
    const format = makeFormat(container);
    const warnings: string[] = [];
    const rotation = first.video.rotation;
    // cut where the last frame ends: a line past it would make the file longer than its picture
    const copies = cutSubtitles(opts.subtitles ?? [], parts[parts.length - 1]!.endS * 1e6);
    const subtitles = new SubtitleWriter(container, copies, rotation !== 0);
    warnings.push(...subtitles.warnings);
    output = new Output({ format, target: new StreamTarget(subtitles.wrap(target.open())) });
    const videoSource = new EncodedVideoPacketSource(videoCodec);
    if (rotation !== 0 && !format.supportsVideoRotationMetadata) {
      warnings.push(
        `The ${container} format cannot store rotation; the video will appear unrotated.`,
      );
    }
    output.addVideoTrack(
      videoSource,
      rotation !== 0 && format.supportsVideoRotationMetadata ? { rotation } : {},
    );
    const kept = lanes.filter((l) => holdsAudio(container, l.codec));
    const leftOut = audioLeftOutNote(
      lanes.map((l) => ({
        codecName: audioCodecName(l.codec),
        muxCodec: kept.includes(l) ? l.codec : null,
      })),
      container,
    );
    if (leftOut) warnings.push(leftOut);
    const audioSources = kept.map((l, k) => {
      const source = new EncodedAudioPacketSource(l.codec);
      output!.addAudioTrack(source, audioTrackMetadata(l, k === 0));
      return source;
    });
    subtitles.addTracks(output);
    await output.start();
    await subtitles.write();

    let frames = 0;
    const framesTotal = parts.reduce((sum, p) => sum + p.frames, 0);
    let audioPackets = 0;
    // mediabunny reads a part's pasp back as a shown size rounded to whole pixels: the ratio it
    // was written with is recovered, so the joined file says DVD's 40:33, not 1707:1408
    const { displayAspectWidth: shownW, displayAspectHeight: shownH } = videoConfig;
    const aspect =
      shownW && shownH && videoConfig.codedWidth && videoConfig.codedHeight
        ? pixelAspectOfShownSize(videoConfig.codedWidth, videoConfig.codedHeight, shownW, shownH)
        : null;
    if (aspect) {
      Object.assign(
        videoConfig,
        displayAspect(videoConfig.codedWidth!, videoConfig.codedHeight!, aspect),
      );
    }
    let videoMeta: { decoderConfig: VideoDecoderConfig } | undefined = {
      decoderConfig: videoConfig,
    };
    const audioMeta: ({ decoderConfig: AudioDecoderConfig } | undefined)[] = kept.map((l) => ({
      decoderConfig: l.config,
    }));
    const audioStarts = starts.map((row) => kept.map((l) => row[found.indexOf(l)]!));
    // the last part with packets of each track: once they are copied its source is closed, as
    // the muxer writes a cluster only when every open track has its packets for it
    const lastPart = kept.map((_, k) => audioStarts.findLastIndex((row) => row[k] !== null));
    const closed = kept.map(() => false);
    const closeDone = (k: number, i: number) => {
      if (closed[k] || i < lastPart[k]!) return;
      closed[k] = true;
      audioSources[k]!.close();
    };
    // part i's packets of track k end here (where part i + 1's copy of it starts)
    const audioEnd = (i: number, k: number): number => {
      const next = parts[i + 1];
      return next
        ? (audioStarts[i + 1]![k] ?? next.startS)
        : opts.complete
          ? Infinity
          : parts[i]!.endS;
    };
    // each track is kept one packet ahead of the video, as MuxWriter adds it: the muxer writes a
    // cluster only when every open track has reached it, so a track that starts late (a
    // commentary a minute in) or pauses would hold every frame before its next packet in memory.
    // Where a track's next packet is in a later part (it starts there, or its pause spans parts),
    // that part's first packet of it is added at once, and skipped when that part is copied.
    const lastAdded = kept.map(() => -Infinity);
    const aheadIn = kept.map(() => -1);
    const addAudio = async (k: number, packet: EncodedPacket): Promise<void> => {
      await audioSources[k]!.add(packet, audioMeta[k]);
      audioMeta[k] = undefined;
      audioPackets++;
      lastAdded[k] = packet.timestamp;
    };
    const addAhead = async (k: number, from: number): Promise<void> => {
      if (aheadIn[k]! >= from) return;
      for (let j = from; j < parts.length; j++) {
        const track = kept[k]!.tracks[j];
        if (!track || audioStarts[j]![k] === null) continue;
        const first = await new EncodedPacketSink(track).getFirstPacket();
        if (!first || first.timestamp >= audioEnd(j, k)) continue; // (none of it kept from j)
        await addAudio(k, first);
        aheadIn[k] = j;
        return;
      }
    };
    for (let k = 0; k < kept.length; k++) await addAhead(k, 0);
    for (const [i, part] of parts.entries()) {
      const limit = slices[i]!.frames ?? Infinity;
      const videoIt = new EncodedPacketSink(part.video).packets();
      const audioIts = kept.map((l) => {
        const track = l.tracks[i];
        return track ? new EncodedPacketSink(track).packets() : null;
      });
      let taken = 0;
      const nextVideo = async (): Promise<EncodedPacket | null> => {
        if (taken >= limit) return null;
        const r = await videoIt.next();
        if (r.done) return null;
        taken++;
        return r.value;
      };
      // the packet added ahead from this part is its first: skipped here, by position (packets
      // of a laced block can share a timestamp)
      const skip = kept.map((_, k) => aheadIn[k] === i);
      const nextAudio = async (k: number): Promise<EncodedPacket | null> => {
        const it = audioIts[k];
        if (!it) return null;
        if (skip[k]) {
          skip[k] = false;
          await it.next();
        }
        const r = await it.next();
        return r.done || r.value.timestamp >= audioEnd(i, k) ? null : r.value;
      };
      // a track with no more packets here: closed when no later part has any, else its next
      // part's first packet goes ahead
      const ended = async (k: number): Promise<void> => {
        closeDone(k, i);
        if (!closed[k]) await addAhead(k, i + 1);
      };
      let v = await nextVideo();
      const heads = await Promise.all(kept.map((_, k) => nextAudio(k)));
      for (let k = 0; k < kept.length; k++) if (heads[k] === null) await ended(k);
      for (;;) {
        if (opts.signal?.aborted) {
          throw new UpframeError('EXPORT_CANCELED', 'The export was canceled.');
        }
        // the earliest audio packet of a track not yet past the next frame (one packet ahead)
        const videoAt = v ? v.timestamp : Infinity;
        let k = -1;
        for (let j = 0; j < heads.length; j++) {
          const h = heads[j];
          if (h && lastAdded[j]! <= videoAt && (k < 0 || h.timestamp < heads[k]!.timestamp)) k = j;
        }
        if (!v && k < 0) break;
        if (k >= 0) {
          await addAudio(k, heads[k]!);
          heads[k] = await nextAudio(k);
          if (heads[k] === null) await ended(k);
        } else {
          await videoSource.add(v!, videoMeta);
          videoMeta = undefined;
          frames++;
          opts.onProgress?.(frames, framesTotal);
          v = await nextVideo();
        }
      }
      await videoIt.return(undefined);
      for (const it of audioIts) await it?.return(undefined);
    }
    videoSource.close();
    kept.forEach((_, k) => closeDone(k, Infinity));
    await output.finalize();
    const renamed = subtitles.check();
    if (renamed) warnings.push(renamed);
    await target.commit();
    const last = parts[parts.length - 1]!;
    return {
      frames,
      durationSeconds: last.endS - first.startS,
      bytes: target.bytesWritten,
      codec: videoConfig.codec,
      container,
      width: first.video.codedWidth,
      height: first.video.codedHeight,
      audioPacketsCopied: audioPackets,
      audioTracks: kept.length,
      subtitleTracks: subtitles.tracks,
      warnings,
    };
  } catch (err) {
    if (output && output.state !== 'finalized' && output.state !== 'canceled') {
      await output.cancel().catch(() => undefined);
    }
    await target.abort(err);
    throw err;
  } finally {
    for (const p of parts) p.input.dispose();
  }
}
