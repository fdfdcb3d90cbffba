// Training logs: a JSONL file (one object per logging step or validation)
// and a progress display with ETA and live values.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { writeFileAtomic } from '../io/atomic.js';

export type LogRecord = { step: number; kind: string } & Record<string, unknown>;

export class TrainingLog {
  private fd: number;

  /**
   * Opens `file` for appending. On resume from `startStep`, lines a killed run
   * wrote after that step are dropped so the log matches an uninterrupted run.
   */
  constructor(readonly file: string, startStep: number) {
    if (startStep === 0) {
      fs.writeFileSync(file, '');
    } else if (fs.existsSync(file)) {
      const kept = readLog(file).filter((r) => r.step <= startStep);
      // Atomic: a second kill during this rewrite must not lose the kept lines.
      writeFileAtomic(file, kept.map((r) => JSON.stringify(r)).join('\n') + (kept.length ? '\n' : ''));
    }
    this.fd = fs.openSync(file, 'a');
  }

  write(record: LogRecord): void {
    fs.writeSync(this.fd, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * The per-step values between two 'train' log lines, whose means a line
 * records. It is part of what a checkpoint saves (state()/from()): a run
 * resumed mid-window would otherwise log means over only the steps after the
 * resume, unlike the uninterrupted run.
 */
export class LogWindow {
  private values: Record<string, number[]>;

  constructor(values: Record<string, number[]> = {}) {
    this.values = values;
  }

  /** Steps in the window. */
  get size(): number {
    return Math.max(0, ...Object.values(this.values).map((v) => v.length));
  }

  push(values: Record<string, number>): void {
    for (const [k, v] of Object.entries(values)) (this.values[k] ??= []).push(v);
  }

  /** Mean of each key over the steps that reported it (summed in step order). */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, arr] of Object.entries(this.values)) if (arr.length) out[k] = arr.reduce((a, b) => a + b, 0) / arr.length;
    return out;
  }

  clear(): void {
    this.values = {};
  }

  /** JSON-able copy (NaN/±Infinity become strings, which JSON cannot hold). */
  state(): Record<string, (number | string)[]> {
    const out: Record<string, (number | string)[]> = {};
    for (const [k, arr] of Object.entries(this.values)) out[k] = arr.map((v) => (Number.isFinite(v) ? v : String(v)));
    return out;
  }

  /** The window a checkpoint saved with state(); `where` names the source in errors. */
  static from(state: unknown, where = 'log window'): LogWindow {
    if (state === undefined || state === null) return new LogWindow();
    if (typeof state !== 'object' || Array.isArray(state)) throw new Error(`${where}: expected an object of number lists, got ${JSON.stringify(state)}`);
    const values: Record<string, number[]> = {};
    for (const [k, arr] of Object.entries(state as Record<string, unknown>)) {
      if (!Array.isArray(arr)) throw new Error(`${where}: field '${k}' must be a list of numbers, got ${JSON.stringify(arr)}`);
      values[k] = arr.map((v, i) => {
        const n = typeof v === 'string' ? Number(v) : v;
        if (typeof n !== 'number' || (typeof v === 'string' && !['NaN', 'Infinity', '-Infinity'].includes(v))) throw new Error(`${where}: field '${k}[${i}]' must be a number, got ${JSON.stringify(v)}`);
        return n;
      });
    }
    return new LogWindow(values);
  }
}

/** Reads a JSONL training log; a torn last line (killed mid-write) is ignored. */
export function readLog(file: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // Only the last line can be torn; anything after it would have failed too.
    }
  }
  return out;
}

export interface Progress {
  tick(step: number, values: Record<string, number>): void;
  note(text: string): void;
  done(): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * A progress bar on a terminal (redrawn in place, at most 10 times a second),
 * or a plain line every 5% when stderr is not a terminal; silent when disabled.
 */
export function createProgress(enabled: boolean, total: number, start: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled) return { tick() {}, note() {}, done() {} };
  const tty = stream.isTTY === true;
  const t0 = performance.now();
  let lastDraw = 0;
  let lastLinePct = -1;
  let noteText = '';
  const smooth: Record<string, number> = {};
  const line = (step: number): string => {
    const elapsed = (performance.now() - t0) / 1000;
    const rate = (step - start) / Math.max(elapsed, 1e-9);
    const eta = (total - step) / rate;
    const pct = step / total;
    const width = 24;
    const filled = Math.round(pct * width);
    const vals = Object.entries(smooth).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
    return `${String(step).padStart(String(total).length)}/${total} [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${(pct * 100).toFixed(0).padStart(3)}% ${vals}${noteText ? ` | ${noteText}` : ''} | ${rate.toFixed(2)} it/s ETA ${formatDuration(eta)}`;
  };
  return {
    tick(step, values) {
      for (const [k, v] of Object.entries(values)) smooth[k] = smooth[k] === undefined ? v : 0.9 * smooth[k] + 0.1 * v;
      const now = performance.now();
      if (tty) {
        if (now - lastDraw > 100 || step === total) {
          stream.write(`\r${line(step)}\x1b[K`);
          lastDraw = now;
        }
      } else {
        const pct = Math.floor((step / total) * 20);
        if (pct !== lastLinePct) {
          stream.write(`${line(step)}\n`);
          lastLinePct = pct;
        }
      }
    },
    note(text) { noteText = text; },
    done() { if (tty) stream.write('\n'); },
  };
}
