/**
 * The vocabulary of media/: an Input holds Tracks; a Sink reads a Track (packets or decoded frames);
 * a Source feeds an Output, which writes to a Target. These are the plain data types they share.
 */

import type { MuxAudioCodec } from './codecs.ts';
import type { VideoCodecChoice } from './encoder-config.ts';
import type { OutputContainer } from './output.ts';
import type { PacketTable } from './packet-table.ts';
import type { FieldOrder } from '../shared/deinterlace-rows.ts';

export type ContainerKind = 'mp4' | 'mov' | 'webm' | 'mkv' | 'mpegts' | 'avi' | 'mpegps';

export type Rotation = 0 | 90 | 180 | 270;

/** One coded packet as the demuxer knows it before reading its bytes. Times are presentation times
 * in microseconds with the edit list already applied. */
export interface PacketInfo {
  readonly timestampUs: number;
  readonly durationUs: number;
  readonly key: boolean;
  readonly byteLength: number;
}

/** A packet with its bytes, in decode order. `index` counts packets in decode order. */
export interface EncodedSample extends PacketInfo {
  readonly index: number;
  readonly data: Uint8Array<ArrayBuffer>;
}

export type PixelAspect = readonly [number, number];

export interface VideoTrackInfo {
  readonly kind: 'video';
  /** WebCodecs codec string, e.g. avc1.64001f. */
  readonly codec: string;
  /** Person-facing name: H.264, HEVC, VP9, AV1, ... */
  readonly codecName: string;
  /** Everything VideoDecoder.configure needs, colour included when the file states it. */
  readonly decoderConfig: VideoDecoderConfig;
  /** Visible size of a decoded frame before rotation (not the coded size, which may be padded). */
  readonly width: number;
  readonly height: number;
  /** Clockwise rotation the container asks players to apply. */
  readonly rotation: Rotation;
  /**
   * A pixel's width over its height, reduced, when it is not square (DVD, DV, HDV and some
   * broadcast and phone footage): [num, den]. Null for square pixels.
   */
  readonly pixelAspect: PixelAspect | null;
  readonly colorSpace: VideoColorSpaceInit | null;
  /** Every packet in decode order (typed arrays: hours of video stay a few MiB). */
  readonly packets: PacketTable;
  /**
   * Interlaced H.264 whose first picture says its bottom field comes first (h264-field-order.ts);
   * absent for top field first, for progressive video and when the stream does not say.
   */
  readonly fieldOrder?: 'bottom-first';
}

export interface AudioTrackInfo {
  readonly kind: 'audio';
  readonly codec: string;
  /** mediabunny's codec id, used when the packets are copied into an Output. */
  readonly muxCodec: MuxAudioCodec | null;
  readonly codecName: string;
  readonly channels: number;
  readonly sampleRate: number;
  readonly decoderConfig: AudioDecoderConfig;
  readonly packets: PacketTable;
  /** ISO 639-2 language the file gives the track ("eng", "fra"), or null when it says none. */
  readonly language: string | null;
  /** The track's title in the file ("Director's commentary"), or null. */
  readonly title: string | null;
  /**
   * What the output holds the sound as when it is not copied as it is: "16-bit PCM" for
   * formats no output holds (audio-to-s16.ts). Absent when the packets are copied.
   */
  readonly keptAs?: string;
}

/** What probe() tells the UI about a file, before any decoding. */
export interface SourceSummary {
  readonly container: ContainerKind;
  readonly byteLength: number;
  readonly video: {
    readonly codec: string;
    readonly codecName: string;
    /** Visible frame size before rotation. */
    readonly width: number;
    readonly height: number;
    /**
     * Size as shown: the width stretched by a non-square pixel aspect, then width and height
     * swapped for 90 and 270.
     */
    readonly displayWidth: number;
    readonly displayHeight: number;
    readonly pixelAspect: PixelAspect | null;
    readonly rotation: Rotation;
    readonly colorSpace: VideoColorSpaceInit | null;
    readonly frameCount: number;
    readonly durationSeconds: number;
    readonly averageFps: number;
    readonly variableFrameRate: boolean;
    /** H.264 that may hold fields (SPS frame_mbs_only_flag 0): deinterlaced unless turned off. */
    readonly interlaced: boolean;
    /** Which of its fields comes first (h264-field-order.ts; top when the stream does not say). */
    readonly fieldOrder: FieldOrder | null;
    /**
     * For video that may hold fields: how many of its first pictures (up to PROBE_PICTURES)
     * were read and how many of them the stream marks as fields; null otherwise.
     */
    readonly fieldPictures: { readonly scanned: number; readonly fields: number } | null;
  };
  readonly audio: {
    readonly codec: string;
    readonly codecName: string;
    readonly channels: number;
    readonly sampleRate: number;
    /** Whether transcode can copy it into an MP4 (else the output is WebM/MKV). */
    readonly copyable: boolean;
    /** What it is kept as when not as it is ("16-bit PCM"; AudioTrackInfo.keptAs). */
    readonly keptAs?: string;
    /** Its language and title where the file gives them ("eng", "Commentary, eng"). */
    readonly label: string | null;
    /**
     * The file's other audio tracks (other languages, a commentary), each as its label and
     * codec ("fra, AC-3"); those the output cannot hold are said in a warning at render.
     */
    readonly others: readonly string[];
  } | null;
  /**
   * The text subtitle tracks the enhanced file keeps (into MKV), each as its label: "English",
   * "SDH (English)", or "" where the file names no language.
   */
  readonly subtitles: readonly string[];
  /** The file type the page writes for each output codec (output.ts `preferredContainer`). */
  readonly outputContainers: Readonly<Record<VideoCodecChoice, OutputContainer>>;
  /**
   * The same when the person leaves the subtitles out (MP4, which Apple's players play, where
   * `outputContainers` says MKV for them); equal to it for a clip without subtitles.
   */
  readonly plainContainers: Readonly<Record<VideoCodecChoice, OutputContainer>>;
  /** VideoDecoder.isConfigSupported said yes for the track's exact configuration. */
  readonly decodable: boolean;
  /** Things a person should know that do not stop the job (e.g. the file ends early). */
  readonly warnings: readonly string[];
}
