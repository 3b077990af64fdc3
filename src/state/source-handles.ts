/**
 * Handles to the clips renders were made from, so a render stopped by a closed tab can continue
 * without the person finding the file again. A dropped file (DataTransferItem
 * .getAsFileSystemHandle) or one picked with showOpenFilePicker has a FileSystemFileHandle, which
 * IndexedDB can store; after a reload reading it needs the person's permission again, which the
 * click on Continue asks for. A file from an <input type=file> has no handle and is not stored.
 *
 * Keyed by the clip's identity as a render's journal records it (name, size, date), so a handle
 * is found for any render of that clip; only the newest few are kept.
 */

const DB_NAME = 'upframe';
const STORE = 'source-handles';
/** Handles kept at most (oldest dropped first). */
const KEEP = 16;

export interface SourceIdentity {
  readonly name: string;
  readonly size: number;
  readonly lastModified: number;
}

interface Entry {
  readonly key: string;
  readonly handle: FileSystemFileHandle;
  readonly storedAt: number;
}

export function identityKey(id: SourceIdentity): string {
  return `${id.name}\u0000${id.size}\u0000${id.lastModified}`;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

let opened: Promise<IDBDatabase> | null = null;

function database(): Promise<IDBDatabase> {
  opened ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB cannot be opened'));
  }).catch((err: unknown) => {
    opened = null;
    throw err;
  });
  return opened;
}

async function store(mode: IDBTransactionMode): Promise<IDBObjectStore> {
  return (await database()).transaction(STORE, mode).objectStore(STORE);
}

/** Remembers where `file` came from; a browser without IndexedDB just does not remember. */
export async function rememberSource(file: File, handle: FileSystemFileHandle): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  const entry: Entry = { key: identityKey(file), handle, storedAt: Date.now() };
  await request((await store('readwrite')).put(entry));
  const all = (await request((await store('readonly')).getAll())) as Entry[];
  const old = all.sort((a, b) => b.storedAt - a.storedAt).slice(KEEP);
  if (old.length === 0) return;
  const s = await store('readwrite');
  await Promise.all(old.map((e) => request(s.delete(e.key))));
}

/** The handle remembered for this clip, if any. */
export async function sourceHandle(id: SourceIdentity): Promise<FileSystemFileHandle | null> {
  if (typeof indexedDB === 'undefined') return null;
  const entry = (await request((await store('readonly')).get(identityKey(id)))) as
    Entry | undefined;
  return entry?.handle ?? null;
}

interface PermissionHandle {
  queryPermission?(d: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(d: { mode: 'read' }): Promise<PermissionState>;
}

/**
 * The file behind `handle`, asking the person for permission to read it when the browser wants
 * that (call from a click); null when they say no.
 */
export async function readHandle(handle: FileSystemFileHandle): Promise<File | null> {
  const h = handle as FileSystemFileHandle & PermissionHandle;
  let state = (await h.queryPermission?.({ mode: 'read' })) ?? 'granted';
  if (state === 'prompt') state = (await h.requestPermission?.({ mode: 'read' })) ?? 'denied';
  if (state !== 'granted') return null;
  return handle.getFile();
}

/** The file behind `handle` when the browser already lets the page read it, else null (no prompt). */
export async function readHandleIfAllowed(handle: FileSystemFileHandle): Promise<File | null> {
  try {
    const h = handle as FileSystemFileHandle & PermissionHandle;
    const state = (await h.queryPermission?.({ mode: 'read' })) ?? 'granted';
    return state === 'granted' ? await handle.getFile() : null;
  } catch {
    return null; // moved or deleted since
  }
}
