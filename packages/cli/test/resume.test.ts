// Exact resume as a user runs it: `labelwise train` in a child process on the
// bundled NPC sample, SIGKILLed at several points (while loading, mid-step,
// right after a validation, while a checkpoint is written; a BCP run in its
// second phase), continued with --resume, must end with the very bytes of an
// uninterrupted run: weights, optimizer/RNG state, best checkpoint and log.
//
// Two libtorch threads on purpose: the training thread's thread count once
// depended on whether its first parallel op came before or after the loader's
// worker started, which differs between a fresh and a resumed run.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');
const main = path.join(repo, 'packages', 'cli', 'dist', 'src', 'main.js');
const config = path.join(repo, 'examples', 'npc-t2wi.yaml');
const env = { ...process.env, LABELWISE_NUM_THREADS: '2', OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' };
/** One run must finish well within this (a hung child fails the test instead of the suite). */
const RUN_TIMEOUT_MS = 120_000;

// 8 steps: checkpoints at 3, 6, 8; validation at 4, 8; log lines at 5, 8 (a
// resume from 3 or 6 lands inside a log window).
const common = ['-c', config, '--seed', '1', '--set', 'data.patchSize=[64, 64]', '--set', 'data.batchSize=2', '--set', 'data.workers=1', '--set', 'data.prefetch=2'];
const supervised = [...common, '--iterations', '8', '--set', 'training.checkpointEvery=3', '--set', 'training.validateEvery=4', '--set', 'training.logEvery=5'];
// BCP: 3 pre-training steps, then 6 self-training steps from the best pre-trained weights.
const bcp = [...common, '--method', 'bcp', '--labelled', '5', '--iterations', '6', '--set', 'method.pretrainIterations=3', '--set', 'data.unlabelledBatchSize=2',
  '--set', 'training.checkpointEvery=2', '--set', 'training.validateEvery=3', '--set', 'training.logEvery=4'];

const children = new Set<ChildProcess>();
let tmp = '';

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string }

/**
 * Runs `labelwise train ARGS --output OUT`; `killWhen` is polled every
 * millisecond with the stderr so far and SIGKILLs the child once it returns true.
 */
function train(out: string, args: string[], killWhen?: (stderr: string) => boolean): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, 'train', ...args, '--output', out], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const poll = killWhen ? setInterval(() => { if (child.exitCode === null && killWhen(stderr)) child.kill('SIGKILL'); }, 1) : undefined;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`labelwise train --output ${out} ran past ${RUN_TIMEOUT_MS} ms:\n${stderr.slice(-2000)}`)); }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stderr });
    });
  });
}

/**
 * Kills at `kill`, checks that the kill landed before the end, then resumes
 * to completion. Returns where the kill landed (for the test's diagnostics).
 */
async function killAndResume(out: string, args: string[], kill: (stderr: string) => boolean, phase = ''): Promise<string> {
  const first = await train(out, args, kill);
  assert.equal(first.signal, 'SIGKILL', `the run was killed before it finished (exit ${first.code}):\n${first.stderr.slice(-2000)}`);
  const landed = landing(path.join(out, phase));
  const second = await train(out, [...args, '--resume']);
  assert.equal(second.code, 0, `the resumed run succeeds:\n${second.stderr.slice(-2000)}`);
  return landed;
}

/** Where a kill left a run folder: its checkpoint folders and their steps, and the last logged step. */
function landing(dir: string): string {
  const root = path.join(dir, 'checkpoints');
  const folders = fs.existsSync(root) ? fs.readdirSync(root).sort().map((f) => {
    const meta = path.join(root, f, 'checkpoint.json');
    return fs.existsSync(meta) ? `${f}@${(JSON.parse(fs.readFileSync(meta, 'utf8')) as { step: number }).step}` : `${f}(partial)`;
  }) : [];
  const log = path.join(dir, 'log.jsonl');
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
  return `killed with checkpoints [${folders.join(', ')}], ${lines.length} log lines${lines.length ? `, the last: ${lines.at(-1)!.slice(0, 80)}` : ''}`;
}

const exists = (...p: string[]) => fs.existsSync(path.join(...p));

/** Log records without wall-clock fields (time, step time, loader wait). */
function logOf(dir: string): unknown[] {
  return fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as Record<string, unknown>;
    for (const k of ['time', 'stepMs', 'dataWaitMs', 'dataWaitFraction']) delete r[k];
    return r;
  });
}

/** What checkpoint.json records about training (not paths, dates or the code version). */
function trainingMeta(ckpt: string): unknown {
  const m = JSON.parse(fs.readFileSync(path.join(ckpt, 'checkpoint.json'), 'utf8')) as Record<string, unknown>;
  return { step: m.step, metrics: m.metrics, bestMetric: m.bestMetric, recipe: m.recipe, optimizer: m.optimizer, optimizerScalars: m.optimizerScalars, scheduler: m.scheduler, optimizers: m.optimizers };
}

/** Asserts that `dir` ended byte for byte like `ref` in each listed phase folder ('' is the run folder). */
function assertSameRun(ref: string, dir: string, phases: string[]): void {
  for (const ph of phases) {
    for (const ck of ['last', 'best']) {
      for (const f of ['model.safetensors', 'state.safetensors']) {
        const a = fs.readFileSync(path.join(ref, ph, 'checkpoints', ck, f));
        const b = fs.readFileSync(path.join(dir, ph, 'checkpoints', ck, f));
        assert.ok(a.equals(b), `${path.join(ph, 'checkpoints', ck, f)} differs from the uninterrupted run's`);
      }
      assert.deepEqual(trainingMeta(path.join(dir, ph, 'checkpoints', ck)), trainingMeta(path.join(ref, ph, 'checkpoints', ck)), `${path.join(ph, 'checkpoints', ck)}/checkpoint.json`);
    }
  }
}

/** A checkpoint write cut short leaves no temporary or parked folder once the run has finished. */
function assertNoLeftovers(dir: string, phases: string[]): void {
  for (const ph of phases) assert.deepEqual(fs.readdirSync(path.join(dir, ph, 'checkpoints')).sort(), ['best', 'last'], `${path.join(ph, 'checkpoints')} holds only best/ and last/`);
}

function assertSameLog(ref: string, dir: string, phases: string[]): void {
  for (const ph of phases) assert.deepEqual(logOf(path.join(dir, ph)), logOf(path.join(ref, ph)), `${path.join(ph, 'log.jsonl')} (means over each logging window, validations)`);
}

/** The last progress line's "step/total", or null (progress lines go to stderr when it is not a terminal). */
function progressAt(stderr: string): { step: number; total: number } | null {
  const m = [...stderr.matchAll(/^\s*(\d+)\/(\d+) \[/gm)].at(-1);
  return m ? { step: Number(m[1]), total: Number(m[2]) } : null;
}

const refSupervised = () => path.join(tmp, 'ref');
const refBcp = () => path.join(tmp, 'ref-bcp');

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lw-resume-'));
  const [a, b] = await Promise.all([train(refSupervised(), supervised), train(refBcp(), bcp)]);
  assert.equal(a.code, 0, a.stderr.slice(-2000));
  assert.equal(b.code, 0, b.stderr.slice(-2000));
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  if (tmp && !process.env.LABELWISE_TEST_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

test('uninterrupted runs are reproducible (the reference the kills are compared with)', async () => {
  const dir = path.join(tmp, 'again');
  const r = await train(dir, supervised);
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assertSameRun(refSupervised(), dir, ['']);
  assertSameLog(refSupervised(), dir, ['']);
  assertNoLeftovers(dir, ['']);
});

// The kill points, each with what must hold when the kill lands.
const cases: { name: string; kill: (dir: string) => (stderr: string) => boolean }[] = [
  // The data plan is written before the network, the loader or any step: a kill here resumes from nothing.
  { name: 'while loading (before the first step)', kill: (dir) => () => exists(dir, 'data_plan.json') },
  // After step 5 is logged, step 6 trains; the last checkpoint is step 3's.
  { name: 'mid-step', kill: () => (stderr) => (progressAt(stderr)?.step ?? 0) >= 5 },
  // Step 4's validation is logged; its best checkpoint and the curves are being written.
  { name: 'right after a validation', kill: (dir) => () => exists(dir, 'log.jsonl') && fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').includes('"kind":"validation"') },
  // Step 6's 'last' is being written or swapped in: a temporary or parked folder exists beside step 3's.
  {
    name: 'while a checkpoint is written',
    kill: (dir) => () => {
      const root = path.join(dir, 'checkpoints');
      return fs.existsSync(root) && fs.readdirSync(root).some((f) => f.startsWith('.last.tmp-') || f.startsWith('.last.old-')) && exists(root, 'last');
    },
  },
];

for (const c of cases) {
  test(`killed ${c.name}, then --resume: the same weights, state and log as without the kill`, async (t) => {
    const dir = path.join(tmp, c.name.replace(/\W+/g, '-'));
    t.diagnostic(await killAndResume(dir, supervised, c.kill(dir)));
    await t.test('weights, optimizer and RNG state, best checkpoint', () => assertSameRun(refSupervised(), dir, ['']));
    await t.test('log.jsonl', () => assertSameLog(refSupervised(), dir, ['']));
    await t.test('no checkpoint folders left over', () => assertNoLeftovers(dir, ['']));
  });
}

test('BCP killed in its second phase (self-training), then --resume: the same weights, state and logs', async (t) => {
  const dir = path.join(tmp, 'bcp');
  // Phase 2 shows "k/6"; phase 1 "k/3". Killed after self-training step 3 (its last checkpoint is step 2's).
  t.diagnostic(await killAndResume(dir, bcp, (stderr) => { const p = progressAt(stderr); return p !== null && p.total === 6 && p.step >= 3; }, '2-selftrain'));
  assert.ok(exists(dir, '2-selftrain', 'checkpoints', 'last'));
  await t.test('weights, optimizer and RNG state, best checkpoints', () => assertSameRun(refBcp(), dir, ['', '1-pretrain', '2-selftrain']));
  await t.test('log.jsonl of both phases', () => assertSameLog(refBcp(), dir, ['1-pretrain', '2-selftrain']));
  await t.test('no checkpoint folders left over', () => assertNoLeftovers(dir, ['', '1-pretrain', '2-selftrain']));
});
