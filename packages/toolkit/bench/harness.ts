// Shared pieces of the side-by-side benchmarks: the Python reference worker
// (one JSON command per line on stdin, one JSON reply per line on stdout) and
// the writer of a marked section of docs/benchmarks.md.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const pkgRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = path.resolve(pkgRoot, '../..');

/** A Python script answering JSON commands; `needs` names what it imports (for the error when it dies). */
export class PyWorker<Reply extends { error?: string }> {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor(python: string, script: string, private readonly who: string, private readonly needs: string) {
    this.proc = spawn(python, [path.join(pkgRoot, 'bench', script)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[python] ${d.toString()}`));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  /** The next reply (e.g. the worker's greeting with versions). */
  async read(): Promise<Reply> {
    const r = await this.lines.next();
    if (r.done) throw new Error(`${this.who}: the Python worker exited (is ${this.needs} installed?)`);
    return JSON.parse(r.value) as Reply;
  }

  async call(cmd: Record<string, unknown>): Promise<Reply> {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    const r = await this.read();
    if (r.error) throw new Error(`python ${String(cmd.op)}: ${r.error}`);
    return r;
  }

  close(): void {
    this.proc.stdin.write('{"op":"quit"}\n');
    this.proc.stdin.end();
  }
}

/**
 * Replaces the text between `<!-- bench:NAME:start -->` and its end marker
 * in docs/benchmarks.md (atomically), or appends the block; `insert` may
 * place a missing block elsewhere (e.g. inside an enclosing section).
 */
export function writeDocsSection(name: string, section: string, insert?: (text: string, block: string) => string | null): void {
  const docs = path.join(repoRoot, 'docs', 'benchmarks.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n${section}\n${end}`;
  let text = fs.existsSync(docs) ? fs.readFileSync(docs, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = insert?.(text, block) ?? `${text.trimEnd()}\n\n${block}\n`;
  fs.mkdirSync(path.dirname(docs), { recursive: true });
  const tmp = `${docs}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, docs);
  console.log(`bench:${name}: updated ${path.relative(process.cwd(), docs)}`);
}
