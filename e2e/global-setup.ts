/**
 * Fixtures are made once, before any worker starts: two spec files making the same missing
 * fixture at once would write the same temporary file.
 */
import { ensureMediaFixtures } from '../test/media-fixtures.ts';

export default function globalSetup(): void {
  ensureMediaFixtures();
}
