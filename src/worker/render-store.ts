/**
 * Renders in progress, kept in the origin-private file system (`renders/<id>/`): a journal (the
 * source's identity, the settings, the parts) and the parts themselves (media/parts.ts). A render
 * whose tab closed, crashed or lost its GPU is found here by the next page, which offers to save
 * the frames done or to continue the render. A running render holds a Web Lock named after it, so
 * another tab never lists (or discards) a render that is still being written.
 */
import { OpfsTarget, partExtent, type PartExtent } from '../media/index.ts';
import { UpframeError } from '../shared/errors.ts';
import type { RecoverableRender } from './protocol.ts';
import type { JobSettings } from './settings.ts';

export interface JournalPart {
  readonly name: string;
  /** Source frame index (shown order) of the part's first frame. */
  readonly startFrame: number;
  /** Frames kept from it, fixed when a later part continued it; null for the last part. */
  readonly frames: number | null;
  /** Where its kept audio ends (seconds, output timeline), fixed with `frames`. */
  readonly audioEndS: number | null;
}

export interface RenderJournal {
  readonly version: 1;
  readonly id: string;
  readonly createdAt: number;
  readonly source: { readonly name: string; readonly size: number; readonly lastModified: number };
  /** null when the model came from files the person picked: they cannot be stored. */
  readonly settings: JobSettings | null;
  /** Suggested name for the finished (or partial) file. */
  readonly outputName: string;
  /** The job's frame range (source indices, end exclusive). */
  readonly range: { readonly start: number; readonly end: number };
  readonly parts: readonly JournalPart[];
  /** The clip's text subtitle tracks, which the join reads from it (absent before they were). */
  readonly subtitleTracks?: number;
}

const DIR = 'renders';
const JOURNAL = 'journal.json';

export const lockName = (id: string): string => `upframe-render-${id}`;

async function rendersDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIR, { create: true });
}

export async function renderDir(id: string): Promise<FileSystemDirectoryHandle> {
  return (await rendersDir()).getDirectoryHandle(id);
}

export function newRenderId(): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36);
  return `${Date.now().toString(36)}-${random}`;
}

/** Written whole through a swap file, so a crash leaves the old journal or the new one. */
export async function writeJournal(journal: RenderJournal): Promise<void> {
  const dir = await (await rendersDir()).getDirectoryHandle(journal.id, { create: true });
  const handle = await dir.getFileHandle(JOURNAL, { create: true });
  const writable = await handle.createWritable();
  await writable.write(JSON.stringify(journal));
  await writable.close();
}

function isJournal(value: unknown): value is RenderJournal {
  const j = value as Partial<RenderJournal> | null;
  return (
    typeof j === 'object' &&
    j !== null &&
    j.version === 1 &&
    typeof j.id === 'string' &&
    typeof j.source?.name === 'string' &&
    typeof j.range?.start === 'number' &&
    typeof j.range.end === 'number' &&
    Array.isArray(j.parts) &&
    j.parts.length > 0
  );
}

export async function readJournal(id: string): Promise<RenderJournal> {
  let text: string;
  try {
    const dir = await renderDir(id);
    text = await (await (await dir.getFileHandle(JOURNAL)).getFile()).text();
  } catch (err) {
    throw new UpframeError('INVALID_OPTION', 'That earlier render is no longer there.', {
      cause: err,
    });
  }
  const parsed: unknown = JSON.parse(text);
  if (!isJournal(parsed) || parsed.id !== id) {
    throw new UpframeError('CORRUPT_INPUT', 'The record of that earlier render is damaged.');
  }
  return parsed;
}

export async function partFile(id: string, name: string): Promise<File> {
  return (await (await renderDir(id)).getFileHandle(name)).getFile();
}

/** A part's target: written as OpfsTarget does, but a failure keeps what is written. */
class PartTarget extends OpfsTarget {
  override abort(): Promise<void> {
    return this.keep();
  }
}

export async function partTarget(id: string, name: string): Promise<OpfsTarget> {
  const dir = await renderDir(id);
  return new PartTarget(await dir.getFileHandle(name, { create: true }));
}

export async function deleteRender(id: string): Promise<void> {
  await (await rendersDir()).removeEntry(id, { recursive: true }).catch(() => undefined);
}

export interface RenderState {
  readonly journal: RenderJournal;
  /** What is kept of each part, in order (sealed parts as the journal fixed them). */
  readonly extents: readonly PartExtent[];
  readonly framesDone: number;
  /** The first source frame not yet rendered. */
  readonly nextFrame: number;
  /** Where the kept audio ends (seconds, output timeline), or null. */
  readonly audioEndS: number | null;
  readonly bytes: number;
}

export async function renderState(journal: RenderJournal): Promise<RenderState> {
  const found: PartExtent[] = [];
  for (const part of journal.parts) {
    const file = await partFile(journal.id, part.name).catch(() => null);
    found.push(file ? await partExtent(file) : { bytes: 0, frames: 0, audioEndS: null });
  }
  return stateOf(journal, found);
}

/**
 * A render's state from what its part files hold (`found`, in journal order): a part a later
 * part continued keeps the frames and audio the journal fixed for it (its file may hold a little
 * more that was not whole when it was continued, or the same), the last part what it holds.
 */
export function stateOf(journal: RenderJournal, found: readonly PartExtent[]): RenderState {
  const extents = journal.parts.map((part, i) =>
    part.frames === null
      ? found[i]!
      : { bytes: found[i]!.bytes, frames: part.frames, audioEndS: part.audioEndS },
  );
  const last = journal.parts.length - 1;
  const audioEnds = extents.map((e) => e.audioEndS).filter((a): a is number => a !== null);
  return {
    journal,
    extents,
    framesDone: extents.reduce((sum, e) => sum + e.frames, 0),
    nextFrame: journal.parts[last]!.startFrame + extents[last]!.frames,
    audioEndS: audioEnds.length > 0 ? Math.max(...audioEnds) : null,
    bytes: extents.reduce((sum, e) => sum + e.bytes, 0),
  };
}

export interface Continuation {
  /** The journal to write before continuing: the last part's counts fixed, a new part added. */
  readonly journal: RenderJournal;
  /** The part to render and where, or null when every frame is kept and only the join is left. */
  readonly next: {
    readonly part: string;
    readonly resumeAt: number;
    /** Where the kept audio ends (output timeline, microseconds), or null without audio. */
    readonly resumeAudioAtUs: number | null;
  } | null;
}

/** How a stopped render continues: from its first missing frame, into a new part. */
export function continuation(state: RenderState): Continuation {
  const before = state.journal;
  const last = before.parts.length - 1;
  const sealed = before.parts.map((p, i) =>
    i === last
      ? { ...p, frames: state.extents[i]!.frames, audioEndS: state.extents[i]!.audioEndS }
      : p,
  );
  if (state.nextFrame >= before.range.end) {
    return { journal: { ...before, parts: sealed }, next: null };
  }
  const part = `part-${before.parts.length + 1}.mp4`;
  return {
    journal: {
      ...before,
      parts: [
        ...sealed,
        { name: part, startFrame: state.nextFrame, frames: null, audioEndS: null },
      ],
    },
    next: {
      part,
      resumeAt: state.nextFrame,
      resumeAudioAtUs: state.audioEndS === null ? null : Math.round(state.audioEndS * 1e6),
    },
  };
}

export function summarize(state: RenderState): RecoverableRender {
  const j = state.journal;
  return {
    id: j.id,
    createdAt: j.createdAt,
    sourceName: j.source.name,
    sourceSize: j.source.size,
    sourceLastModified: j.source.lastModified,
    outputName: j.outputName,
    framesDone: state.framesDone,
    framesTotal: j.range.end - j.range.start,
    bytes: state.bytes,
    canContinue: j.settings !== null,
    settings: j.settings,
  };
}

async function heldLocks(): Promise<Set<string>> {
  const snapshot = await navigator.locks.query();
  return new Set((snapshot.held ?? []).map((l) => l.name ?? ''));
}

/**
 * Renders that stopped before they finished, newest first. Renders another tab is writing are
 * left alone; ones with nothing kept (or no readable journal) are removed.
 */
export async function listRenders(): Promise<RecoverableRender[]> {
  const dir = await rendersDir();
  const held = await heldLocks();
  const found: RecoverableRender[] = [];
  for await (const [id, handle] of (
    dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }
  ).entries()) {
    if (handle.kind !== 'directory' || held.has(lockName(id))) continue;
    try {
      const state = await renderState(await readJournal(id));
      if (state.framesDone > 0) {
        found.push(summarize(state));
        continue;
      }
    } catch {
      // unreadable: nothing can be saved from it
    }
    await deleteRender(id);
  }
  return found.sort((a, b) => b.createdAt - a.createdAt);
}

/** Runs `fn` holding the render's lock (other tabs then do not list it). */
export function withRenderLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
  return navigator.locks.request(lockName(id), async () => await fn()) as Promise<T>;
}

export function sameSource(journal: RenderJournal, file: File): boolean {
  return (
    journal.source.name === file.name &&
    journal.source.size === file.size &&
    journal.source.lastModified === file.lastModified
  );
}
