/**
 * Subtitle text as the enhanced file stores it: SRT (Matroska's S_TEXT/UTF8), which every player
 * reads. mediabunny 1.61 writes only WebVTT, which ffmpeg (and so most players built on it) and
 * VLC do not read from Matroska, so output.ts hands it WebVTT timing around SRT text and renames
 * the track's codec as it is written. SRT lines keep their tags; ASS/SSA lines keep their words,
 * line breaks and where on the screen they sit (top, middle or bottom; left, centre or right) as
 * the {\anN} tag that SRT readers (ffmpeg, VLC, mpv) take from an SRT line, not their styling or
 * exact position.
 */

/** SRT, WebVTT, ASS/SSA (Matroska), or plain text (MP4's tx3g). */
export type SubtitleKind = 'srt' | 'webvtt' | 'ass' | 'text';

/** A text subtitle track Upframe copies. */
export interface SubtitleTrackInfo {
  /** The track's number in its file. */
  readonly id: number;
  readonly kind: SubtitleKind;
  /** ISO 639-2 language ("eng", "fra"), or null when the file says none. */
  readonly language: string | null;
  readonly title: string | null;
  readonly isDefault: boolean;
  readonly forced: boolean;
  readonly hearingImpaired: boolean;
  /**
   * ASS/SSA: where each style puts its lines, as the numeric keypad does (1-9: 7 is top left, 2
   * bottom centre), from the track's style table; absent for other kinds.
   */
  readonly alignments?: Readonly<Record<string, number>>;
}

export interface SubtitleCue {
  readonly startUs: number;
  readonly durationUs: number;
  readonly text: string;
}

/** A track to write: its cues already in the enhanced file's time, their text SRT's. */
export interface SubtitleCopy {
  readonly info: SubtitleTrackInfo;
  readonly cues: readonly SubtitleCue[];
}

/** A time range of the source and the shift into the output's time (output.ts AudioWindow). */
export interface TimeWindow {
  readonly fromUs: number;
  readonly toUs: number;
  readonly shiftUs: number;
}

/** ASS's keypad alignment (1-9), or null. */
function keypadOfAss(a: number): number | null {
  return Number.isInteger(a) && a >= 1 && a <= 9 ? a : null;
}

/** SSA's alignment (1-3 bottom, +4 top, +8 middle) as ASS's keypad number. */
function keypadOfSsa(a: number): number | null {
  const row = a >= 9 ? 4 : a >= 5 ? 7 : 1;
  const col = a - (a >= 9 ? 8 : a >= 5 ? 4 : 0);
  return col >= 1 && col <= 3 ? row + col - 1 : null;
}

/**
 * Each style's alignment in an ASS/SSA track's header (its CodecPrivate): the Format line of the
 * styles section names the fields, each Style line gives them. SSA (v4) numbers alignment its own
 * way, mapped to ASS's keypad.
 */
export function styleAlignments(header: string): Record<string, number> {
  const out: Record<string, number> = {};
  let section = '';
  let fields: string[] = [];
  for (const raw of header.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      section = line.toLowerCase();
      fields = [];
      continue;
    }
    const ssa = section === '[v4 styles]';
    if (!ssa && section !== '[v4+ styles]') continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const values = line
      .slice(colon + 1)
      .split(',')
      .map((v) => v.trim());
    if (key === 'format') fields = values.map((v) => v.toLowerCase());
    if (key !== 'style') continue;
    const name = values[fields.indexOf('name')];
    const value = Number(values[fields.indexOf('alignment')]);
    const keypad = ssa ? keypadOfSsa(value) : keypadOfAss(value);
    if (name !== undefined && Number.isInteger(value) && keypad !== null) out[name] = keypad;
  }
  return out;
}

/**
 * An ASS/SSA event's text: the 9th field on, override blocks dropped, \N as a line break; and
 * where it sits: the first \an (or SSA's \a) override, else its style's alignment.
 */
function assText(
  event: string,
  alignments: Readonly<Record<string, number>> | undefined,
): { text: string; keypad: number } {
  // ReadOrder, Layer, Style, Name, MarginL, MarginR, MarginV, Effect, Text (Matroska's order)
  let at = 0;
  const starts: number[] = [];
  for (let field = 0; field < 8; field++) {
    const comma = event.indexOf(',', at);
    if (comma < 0) return { text: event, keypad: 2 };
    starts.push(at);
    at = comma + 1;
  }
  const style = event
    .slice(starts[2], starts[3]! - 1)
    .trim()
    .replace(/^\*/, '');
  const styled = (name: string): number | undefined =>
    alignments && Object.hasOwn(alignments, name) ? alignments[name] : undefined;
  let keypad = styled(style) ?? styled('Default') ?? 2;
  let placed = false;
  // override blocks go; so does what they switch to drawing (\p1 ... \p0: vector shapes of
  // signs and masks, not words)
  let drawing = false;
  let out = '';
  for (const piece of event.slice(at).split(/(\{[^}]*\})/)) {
    if (piece.startsWith('{') && piece.endsWith('}')) {
      const modes = [...piece.matchAll(/\\p(\d+)/g)];
      if (modes.length > 0) drawing = Number(modes[modes.length - 1]![1]) > 0;
      // (the first alignment tag of a line is the one that counts)
      const tag = /\\a(n?)(\d+)/.exec(piece);
      const tagged = !tag
        ? null
        : tag[1]
          ? keypadOfAss(Number(tag[2]))
          : keypadOfSsa(Number(tag[2]));
      if (!placed && tagged !== null) {
        keypad = tagged;
        placed = true;
      }
    } else if (!drawing) out += piece;
  }
  return { text: out.replace(/\\[Nn]/g, '\n').replace(/\\h/g, ' '), keypad };
}

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  nbsp: '\u00a0',
  lrm: '\u200e',
  rlm: '\u200f',
};

/** A WebVTT cue's text as SRT: <i>, <b> and <u> kept, other tags (voice, class) dropped. */
function vttAsSrt(text: string): string {
  return text
    .replace(/<\/?([a-z0-9.]+)(?:[ .][^>]*)?>|<\d[^>]*>/gi, (tag, name?: string) =>
      name && /^[ibu]$/i.test(name) ? tag.toLowerCase() : '',
    )
    .replace(/&(amp|lt|gt|nbsp|lrm|rlm);/g, (_, e: string) => ENTITIES[e]!);
}

/**
 * A cue's text as SRT (S_TEXT/UTF8) shows it, or '' when nothing shows: SRT keeps its tags
 * (italics, bold, colours) and its first {\anN} placement, ASS keeps its words, line breaks and
 * placement (as {\anN}, left out at the bottom centre where every player puts a line), WebVTT
 * its italics, bold and underline. No blank line inside (it would end the cue) and no "-->" (it
 * starts one).
 */
export function cueText(
  kind: SubtitleKind,
  raw: string,
  alignments?: Readonly<Record<string, number>>,
): string {
  const text = raw.replace(/\r\n?/g, '\n');
  let keypad = 2;
  let shown = text;
  if (kind === 'ass') ({ text: shown, keypad } = assText(text, alignments));
  else if (kind === 'srt') {
    const an = /\{[^}]*?\\an([1-9])/.exec(text);
    if (an) keypad = Number(an[1]);
    shown = text.replace(/\{\\[^}]*\}/g, ''); // position tags that converters leave, put back below
  } else if (kind === 'webvtt') shown = vttAsSrt(text);
  const lines = shown
    .replace(/-->/g, '->')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return '';
  return (keypad === 2 ? '' : `{\\an${keypad}}`) + lines.join('\n');
}

/** `us` as a WebVTT timestamp, HH:MM:SS.mmm. */
export function vttTime(us: number): string {
  const ms = Math.max(0, Math.round(us / 1000));
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/**
 * The cues that show in the window, cut to it and moved into the output's time, their text made
 * SRT's; in start order, as the muxer takes them. Cues of no whole millisecond, or no text, go.
 */
export function windowCues(
  kind: SubtitleKind,
  cues: readonly SubtitleCue[],
  window: TimeWindow,
  alignments?: Readonly<Record<string, number>>,
): SubtitleCue[] {
  const out: SubtitleCue[] = [];
  for (const cue of cues) {
    const from = Math.max(cue.startUs, window.fromUs) - window.shiftUs;
    const to = Math.min(cue.startUs + cue.durationUs, window.toUs) - window.shiftUs;
    const text = cueText(kind, cue.text, alignments);
    if (Math.round(to / 1000) - Math.round(from / 1000) < 1 || !text) continue;
    out.push({ startUs: from, durationUs: to - from, text });
  }
  // the same words at the same time once (ASS draws a sign's outline and fill as two events)
  const seen = new Set<string>();
  return out
    .sort((a, b) => a.startUs - b.startUs)
    .filter((c) => {
      const key = `${Math.round(c.startUs / 1000)} ${Math.round(c.durationUs / 1000)} ${c.text}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** The cues as a WebVTT document (what mediabunny's TextSubtitleSource parses; see above). */
export function webVttDocument(cues: readonly SubtitleCue[]): string {
  const body = cues.map(
    (c) => `${vttTime(c.startUs)} --> ${vttTime(c.startUs + c.durationUs)}\n${c.text}\n`,
  );
  return ['WEBVTT\n', ...body].join('\n');
}

/**
 * The source time of frames `[start, end)` of a video whose frames start at `timestampsUs`, and
 * the shift into the output's time: a whole-clip render keeps the file's clock (and a line that
 * shows before its first frame); a range starts at 0. The window ends where its last frame does
 * (one frame at `averageFps` after its start): a line past it would make the file longer than its
 * picture.
 */
export function rangeWindow(
  timing: { readonly timestampsUs: ArrayLike<number>; readonly averageFps: number },
  start: number,
  end: number,
): TimeWindow {
  const ts = timing.timestampsUs;
  const total = ts.length;
  const frameUs = timing.averageFps > 0 ? 1e6 / timing.averageFps : 0;
  const toUs = end < total ? ts[end]! : ts[total - 1]! + frameUs;
  if (start === 0 && end >= total) return { fromUs: -Infinity, toUs, shiftUs: 0 };
  const startUs = ts[start]!;
  return { fromUs: startUs, toUs, shiftUs: startUs };
}

/** The note for subtitles that could not be read: the render goes on without them. */
export function unreadableSubtitles(err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  return `The subtitles were left out: they could not be read from the clip (${why.replace(/\.$/, '')}).`;
}
