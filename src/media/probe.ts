/** probe: the instant summary the UI shows when a file is dropped. Reads the index, decodes nothing. */
import { UpframeError } from '../shared/errors.ts';
import { languageName } from '../shared/format.ts';
import { isHdr } from './codecs.ts';
import { frameTiming } from './frame-timing.ts';
import { INTERLACED_NOTE, mayHoldFields } from './h264-sps.ts';
import { canDecodeJpeg, isMotionJpeg } from './jpeg-decoder.ts';
import { isMpegVideo, mpegUnreadable } from './mpeg-video-decoder.ts';
import { openInput } from './input.ts';
import { preferredContainer } from './output.ts';
import { shownWidth } from './pixel-aspect.ts';
import type { MediaInput } from './input-types.ts';
import { pictureReader } from './video-frame-sink.ts';
import type { AudioTrackInfo, SourceSummary, VideoTrackInfo } from './types.ts';

export interface ProbeOptions {
  /** Return `decodable: false` instead of throwing UNSUPPORTED_CODEC (to show what the file is). */
  readonly allowUndecodable?: boolean;
}

export async function isDecodable(video: VideoTrackInfo): Promise<boolean> {
  if (isMotionJpeg(video.decoderConfig.codec)) return canDecodeJpeg();
  // our own decoder: it needs only VideoFrame
  if (isMpegVideo(video.decoderConfig.codec)) {
    return typeof VideoFrame !== 'undefined' && mpegUnreadable(video.decoderConfig) === null;
  }
  if (typeof VideoDecoder === 'undefined') return false;
  try {
    const support = await VideoDecoder.isConfigSupported(video.decoderConfig);
    return support.supported === true;
  } catch {
    return false;
  }
}

export function undecodableError(video: VideoTrackInfo): UpframeError {
  const why = mpegUnreadable(video.decoderConfig);
  if (why) {
    return new UpframeError(
      'UNSUPPORTED_CODEC',
      `This ${video.codecName} video cannot be decoded: ${why}. Convert the file to H.264 ` +
        'first (ffmpeg -i in.mov -c:v libx264 -crf 16 out.mp4).',
    );
  }
  return new UpframeError(
    'UNSUPPORTED_CODEC',
    `This browser cannot decode ${video.codecName} video (${video.codec}). ` +
      'Convert the file to H.264, VP9 or AV1 first.',
  );
}

/** How many of the first pictures the summary reads to tell how a stream marks them. */
export const PROBE_PICTURES = 60;

/**
 * How the first pictures of H.264 that may hold fields are marked (`scan` in
 * h264-field-order.ts, as the render reads them): how many were read and how many are fields.
 * Null for video that cannot hold fields.
 */
async function fieldPictures(
  input: MediaInput,
): Promise<{ readonly scanned: number; readonly fields: number } | null> {
  const video = input.video!;
  const reader = mayHoldFields(input) ? pictureReader(video.decoderConfig) : null;
  if (!reader) return null;
  let scanned = 0;
  let fields = 0;
  const to = Math.min(video.packets.length, PROBE_PICTURES);
  for await (const sample of input.read('video', { from: 0, to })) {
    const shown = reader.scan(sample.data);
    if (shown === null) continue;
    scanned++;
    if (shown !== 'progressive') fields++;
  }
  return { scanned, fields };
}

export async function probe(file: Blob, options: ProbeOptions = {}): Promise<SourceSummary> {
  const input = await openInput(file);
  try {
    const video = input.video!;
    const decodable = await isDecodable(video);
    if (!decodable && !options.allowUndecodable) throw undecodableError(video);
    const timing = frameTiming(video.packets);
    const rotated = video.rotation === 90 || video.rotation === 270;
    const pictures = await fieldPictures(input).catch(() => null);
    // progressive pictures in a stream that could hold fields (Blu-ray 1080p, many camcorders):
    // they pass as they are, so there is nothing to warn about; the setting stays offered
    const progressive = pictures !== null && pictures.scanned > 0 && pictures.fields === 0;
    const warnings = input.warnings.filter((w) => !(progressive && w === INTERLACED_NOTE));
    if (isHdr(video.colorSpace)) {
      warnings.push(
        'This is HDR video; the browser may show and export it with washed-out colours.',
      );
    }
    const audio = input.audio;
    const moreAudio = input.audioTracks.slice(1).flatMap((t) => (t.muxCodec ? [t.muxCodec] : []));
    const subtitled = input.subtitleTracks.length > 0;
    return {
      container: input.container,
      byteLength: file.size,
      video: {
        codec: video.codec,
        codecName: video.codecName,
        width: video.width,
        height: video.height,
        displayWidth: rotated ? video.height : shownWidth(video.width, video.pixelAspect),
        displayHeight: rotated ? shownWidth(video.width, video.pixelAspect) : video.height,
        pixelAspect: video.pixelAspect,
        rotation: video.rotation,
        colorSpace: video.colorSpace,
        frameCount: timing.timestampsUs.length,
        durationSeconds: timing.durationSeconds,
        averageFps: timing.averageFps,
        variableFrameRate: timing.variableFrameRate,
        interlaced: mayHoldFields(input),
        fieldOrder: mayHoldFields(input) ? (video.fieldOrder ?? 'top-first') : null,
        fieldPictures: pictures,
      },
      audio: audio
        ? {
            codec: audio.codec,
            codecName: audio.codecName,
            channels: audio.channels,
            sampleRate: audio.sampleRate,
            copyable: audio.muxCodec !== null,
            ...(audio.keptAs ? { keptAs: audio.keptAs } : {}),
            label: audioLabel(audio),
            others: input.audioTracks
              .slice(1)
              .map((t) => [audioLabel(t), t.codecName].filter(Boolean).join(', ')),
          }
        : null,
      subtitles: input.subtitleTracks.map((t) => audioLabel(t) ?? ''),
      outputContainers: {
        avc: preferredContainer(
          'avc',
          audio?.muxCodec ?? null,
          video.rotation,
          moreAudio,
          subtitled,
        ),
        vp9: preferredContainer(
          'vp9',
          audio?.muxCodec ?? null,
          video.rotation,
          moreAudio,
          subtitled,
        ),
        av1: preferredContainer(
          'av1',
          audio?.muxCodec ?? null,
          video.rotation,
          moreAudio,
          subtitled,
        ),
      },
      plainContainers: {
        avc: preferredContainer('avc', audio?.muxCodec ?? null, video.rotation, moreAudio, false),
        vp9: preferredContainer('vp9', audio?.muxCodec ?? null, video.rotation, moreAudio, false),
        av1: preferredContainer('av1', audio?.muxCodec ?? null, video.rotation, moreAudio, false),
      },
      decodable,
      warnings,
    };
  } finally {
    input.close();
  }
}

/** An audio track's title and language as the file gives them, or null. */
function audioLabel(track: Pick<AudioTrackInfo, 'language' | 'title'>): string | null {
  const language = track.language ? languageName(track.language) : null;
  if (track.title) return language ? `${track.title} (${language})` : track.title;
  return language;
}
