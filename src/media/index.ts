/** media/: demux, decode, encode, mux. The job worker uses probe() and transcode(). */
export { probe, type ProbeOptions } from './probe.ts';
export {
  transcode,
  type StageTimings,
  type TranscodeOptions,
  type TranscodeProgress,
  type TranscodeResult,
} from './transcode.ts';
export { FileStreamTarget, MemoryTarget, OpfsTarget, type OutputTarget } from './targets.ts';
export { openInput } from './input.ts';
export { leaseInput, forgetInputs, type InputLease } from './input-cache.ts';
export { Deinterlacer } from './deinterlace.ts';
export type { FieldOrder } from './h264-field-order.ts';
export { mayHoldFields } from './h264-sps.ts';
export {
  assembleParts,
  partExtent,
  type AssembleResult,
  type PartExtent,
  type PartSlice,
} from './parts.ts';
export { rangeSubtitles } from './range-subtitles.ts';
export { VideoFrameSink } from './video-frame-sink.ts';
export { DecodedFrame, openFrameCount, peakOpenFrameCount } from './frame.ts';
export { canEncode, type QualityChoice, type VideoCodecChoice } from './encoder-config.ts';
export { subtitlesLeftOut, type OutputContainer } from './output.ts';
export type { ContainerKind, Rotation, SourceSummary } from './types.ts';
