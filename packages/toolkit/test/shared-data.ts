// Where the project's shared real data lives: ../shared/data beside the repo
// (as CI lays it out), or LABELWISE_SHARED_DATA when set.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/test → packages/toolkit → packages → repo root
export const REPO_ROOT = path.resolve(here, '../../../..');
export const SHARED_DATA = process.env.LABELWISE_SHARED_DATA ?? path.resolve(REPO_ROOT, '../shared/data');
export const SAMPLES = path.join(SHARED_DATA, 'samples');
export const ACDC = path.join(SHARED_DATA, 'acdc');
/** Fixtures committed with the tests (test/fixtures in the source tree). */
export const FIXTURES = path.resolve(here, '../../test/fixtures');

export function sample(...parts: string[]): string {
  const p = path.join(SAMPLES, ...parts);
  if (!fs.existsSync(p)) throw new Error(`shared sample missing: ${p} (set LABELWISE_SHARED_DATA to the shared data folder)`);
  return p;
}
