import { describe, expect, it } from 'vitest';
import { roomShortfall } from './storage-room.ts';

describe('roomShortfall', () => {
  it('is null when the render fits in what the browser can still store', () => {
    expect(roomShortfall(4e9, { usage: 1e9, quota: 6e9 })).toBeNull();
    expect(roomShortfall(5e9, { usage: 1e9, quota: 6e9 })).toBeNull();
  });

  it('names the need and the room when it does not fit', () => {
    expect(roomShortfall(5e9 + 1, { usage: 1e9, quota: 6e9 })).toEqual({
      neededBytes: 5e9 + 1,
      freeBytes: 5e9,
    });
    // an origin over its quota has no room at all
    expect(roomShortfall(10, { usage: 7e9, quota: 6e9 })).toEqual({
      neededBytes: 10,
      freeBytes: 0,
    });
  });

  it('says nothing when the browser gives no estimate', () => {
    expect(roomShortfall(1e12, null)).toBeNull();
    expect(roomShortfall(1e12, { usage: 1 })).toBeNull();
    expect(roomShortfall(1e12, { quota: 1 })).toBeNull();
  });
});
