import { useRef, useState, type DragEvent, type ReactNode } from 'react';
import { openSource } from '../state/job-actions.ts';

/** Chromium's DataTransferItem also says where a dropped file is (File System Access). */
interface HandleItem {
  readonly kind: string;
  getAsFileSystemHandle?(): Promise<FileSystemHandle | null>;
}

/** The whole page accepts a dropped clip; an overlay says so while something is dragged over. */
export function DropTarget({ children }: { children: ReactNode }) {
  const [over, setOver] = useState(false);
  const inside = useRef(0);
  const onDragOver = (event: DragEvent) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    setOver(true);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    inside.current = 0;
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
      // a drag moving between elements inside the page enters the next before it leaves the
      // last (the overlay takes no pointer events, so it is never one of them): the page is
      // left, at the window's edge or by Esc, when every element entered has been left
      onDragEnter={(event) => {
        if (event.dataTransfer.types.includes('Files')) inside.current++;
      }}
      onDragLeave={() => {
        inside.current = Math.max(0, inside.current - 1);
        if (inside.current === 0) setOver(false);
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
