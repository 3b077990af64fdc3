import { useState, type DragEvent, type ReactNode } from 'react';
import { openSource } from '../state/job-actions.ts';

/** Chromium's DataTransferItem also says where a dropped file is (File System Access). */
interface HandleItem {
  readonly kind: string;
  getAsFileSystemHandle?(): Promise<FileSystemHandle | null>;
}

/** The whole page accepts a dropped clip; an overlay says so while something is dragged over. */
export function DropTarget({ children }: { children: ReactNode }) {
  const [over, setOver] = useState(false);
  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files[0];
    if (!file) return;
    // asked for during the event (the items are gone after it); Chromium has it, others do not
    const item: HandleItem | undefined = event.dataTransfer.items[0];
    const handle = item?.getAsFileSystemHandle?.() ?? Promise.resolve(null);
    void handle
      .catch(() => null)
      .then((h) => openSource(file, h?.kind === 'file' ? (h as FileSystemFileHandle) : null));
  };
  return (
    <div
      className="app"
      onDragOver={onDragOver}
      onDragLeave={(event) => {
        if (event.currentTarget === event.target) setOver(false);
      }}
      onDrop={onDrop}
    >
      {children}
      {over ? (
        <div className="drop-overlay" aria-hidden="true">
          Drop the clip to open it
        </div>
      ) : null}
    </div>
  );
}
