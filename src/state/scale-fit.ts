/**
 * Whether the browser's encoder takes the open clip at the chosen scale and output codec, asked
 * when a clip is opened and again whenever the scale or the codec changes, and the sentence the
 * settings show when it does not. 4x of a 720p clip is 5120x2880, past Chromium's H.264 encoder
 * (OpenH264, level 5.2: 4096x2304) and most hardware encoders, while its VP9 and AV1 encoders
 * take it: without this a render of such a choice failed at its start, after the person pressed
 * Render, and the page never said which codec would have worked.
 */
import { jobWorker } from '../worker/client.ts';
import { updateSlice, useStore, type ScaleNote, type SettingsSlice } from './store.ts';
import { keepSettings } from './saved-settings.ts';

type Codec = SettingsSlice['codec'];

const CODECS: readonly Codec[] = ['avc', 'vp9', 'av1'];
const NAMES: Readonly<Record<Codec, string>> = { avc: 'H.264', vp9: 'VP9', av1: 'AV1' };

/** What the encoder said about a scale and codec it does not take, for the open clip. */
export interface ScaleMisfit {
  readonly scale: 2 | 4;
  readonly codec: Codec;
  /** The clip's coded size. */
  readonly width: number;
  readonly height: number;
  /** Whether the chosen codec takes the clip at 2x (asked only at 4x). */
  readonly lowerFits: boolean;
  /** The other output codecs that take the clip at the chosen scale. */
  readonly others: readonly Codec[];
}

const orList = (codecs: readonly Codec[]) => codecs.map((c) => NAMES[c]).join(' or ');

function tooLarge(m: ScaleMisfit): string {
  return `${m.width * m.scale}×${m.height * m.scale}, more than this browser's ${NAMES[m.codec]} encoder takes`;
}

/** The note when an opened clip was set from 4x to 2x because its codec takes only 2x. */
export function loweredNote(m: ScaleMisfit): ScaleNote {
  const others = m.others.length > 0 ? ` With ${orList(m.others)} output it can be 4×.` : '';
  return { kind: 'lowered', text: `2× for this clip: at 4× it would be ${tooLarge(m)}.${others}` };
}

/** The warning when the person's own choice of scale and codec is more than the encoder takes. */
export function misfitNote(m: ScaleMisfit): ScaleNote {
  const ways = [
    ...(m.lowerFits ? ['choose 2×'] : []),
    ...(m.others.length > 0
      ? [`${m.lowerFits ? 'or ' : 'choose '}${orList(m.others)} output`]
      : []),
  ];
  const next =
    ways.length > 0 ? ways.join(', ') : 'no output codec here takes it, so the render would fail';
  return { kind: 'misfit', text: `At ${m.scale}× this clip would be ${tooLarge(m)}: ${next}.` };
}

/** The settings for another scale: a model picked at the old scale gives way to the default. */
export function scaleSettings(s: SettingsSlice, scale: 2 | 4): Partial<SettingsSlice> {
  const picked = s.model.type === 'builtin' ? s.model.name : null;
  // a pack the person brought, whose manifest was read (custom-pack.ts), has its one scale too
  const custom = s.model.type === 'url' || s.model.type === 'files' ? s.model.scale : undefined;
  const keep =
    (picked === null || s.packs.find((p) => p.name === picked)?.scale === scale) &&
    (custom === undefined || custom === scale);
  return { scale, scaleNote: null, ...(keep ? {} : { model: { type: 'default' as const } }) };
}

/** The person picks a scale: the encoder is asked whether it takes the open clip at it. */
export function chooseScale(scale: 2 | 4): Promise<void> {
  const patch = scaleSettings(useStore.getState().settings, scale);
  updateSlice('settings', patch);
  keepSettings(patch);
  return checkScaleFit({ mayLower: false });
}

/** The person picks an output codec: asked the same way. */
export function chooseCodec(codec: Codec): Promise<void> {
  updateSlice('settings', { codec, scaleNote: null });
  keepSettings({ codec });
  return checkScaleFit({ mayLower: false });
}

let latestCheck = 0;

/**
 * Asks the worker's encoder whether it takes the open clip at the chosen scale and codec. When it
 * does not: on opening a clip at 4x (`mayLower`), the scale goes to 2x if the codec takes that;
 * otherwise, or for a choice the person made, the settings show what would work. Only the newest
 * check writes its answer, and only while the clip, scale and codec are still those it asked
 * about. An encoder that cannot be asked leaves the settings alone: the render says what is wrong.
 */
export async function checkScaleFit({ mayLower }: { mayLower: boolean }): Promise<void> {
  const check = ++latestCheck;
  const { source, settings } = useStore.getState();
  const summary = source.summary;
  if (!summary?.decodable) return;
  const { scale, codec } = settings;
  const { width, height, averageFps } = summary.video;
  const fps = averageFps > 0 ? averageFps : 30;
  const takes = async (c: Codec, s: 2 | 4) =>
    (await jobWorker().call('encode.scale', { codec: c, width, height, fps, scales: [s] }))
      .scale === s;
  let misfit: ScaleMisfit;
  try {
    if (await takes(codec, scale)) return;
    const lowerFits = scale === 4 && (await takes(codec, 2));
    const others: Codec[] = [];
    for (const other of CODECS)
      if (other !== codec && (await takes(other, scale))) others.push(other);
    misfit = { scale, codec, width, height, lowerFits, others };
  } catch {
    return;
  }
  const now = useStore.getState();
  const same =
    now.source.summary === summary && now.settings.scale === scale && now.settings.codec === codec;
  if (check !== latestCheck || !same) return;
  if (mayLower && misfit.lowerFits) {
    updateSlice('settings', { ...scaleSettings(now.settings, 2), scaleNote: loweredNote(misfit) });
  } else {
    updateSlice('settings', { scaleNote: misfitNote(misfit) });
  }
}
