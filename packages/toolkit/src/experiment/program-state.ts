// The state of a method's program between rounds (round number, selections,
// revealed labels, aggregated weights' file names), kept in <run>/program.json
// and rewritten atomically on every change, so a run killed in the middle of
// a round resumes in that round with the same selection.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';

export const PROGRAM_STATE_FORMAT = 'labelwise-program/1';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export class ProgramState {
  private values: Record<string, Json> = {};
  readonly file: string;

  constructor(runDir: string, resume: boolean) {
    this.file = path.join(runDir, 'program.json');
    if (resume && fs.existsSync(this.file)) {
      let doc: { format?: unknown; values?: unknown };
      try {
        doc = JSON.parse(fs.readFileSync(this.file, 'utf8')) as typeof doc;
      } catch (e) {
        throw new Error(`program state ${this.file}: cannot read: ${(e as Error).message}`);
      }
      if (doc.format !== PROGRAM_STATE_FORMAT) throw new Error(`program state ${this.file}: field 'format' is ${JSON.stringify(doc.format)}, expected '${PROGRAM_STATE_FORMAT}'`);
      if (!doc.values || typeof doc.values !== 'object' || Array.isArray(doc.values)) throw new Error(`program state ${this.file}: field 'values' must be an object`);
      this.values = doc.values as Record<string, Json>;
    }
  }

  get<T>(key: string): T | undefined {
    const v = this.values[key];
    return v === undefined ? undefined : structuredClone(v) as T;
  }

  /** Sets a value and writes the whole state at once (atomic rename). */
  set(key: string, value: unknown): void {
    this.values[key] = structuredClone(value) as Json;
    writeFileAtomic(this.file, JSON.stringify({ format: PROGRAM_STATE_FORMAT, values: this.values }, null, 2) + '\n');
  }

  /** Runs `fn` once per run: its result is stored under `key`, and a resumed run gets the stored result back without calling it. */
  async once<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const have = this.get<T>(key);
    if (have !== undefined) return have;
    const v = await fn();
    this.set(key, v);
    return v;
  }
}
