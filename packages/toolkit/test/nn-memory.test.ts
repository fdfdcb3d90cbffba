// Inference memory of nnU-Net's PlainConvUNet: every conv block releases its
// intermediates when it is done and the LeakyReLU works in place (as
// nnU-Net's), so a no-grad forward holds a few feature maps at a time instead
// of every block's conv, norm and activation outputs until the forward ends.
// Measured in a fresh process (the resident-set high-water mark only rises):
// 16–64 channels at 96³ peak at ~9 full-resolution 16-channel maps with the
// scopes, ~13 without.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

test('PlainConvUNet no-grad forward keeps peak memory near a few feature maps', () => {
  const child = fileURLToPath(new URL('./plain-unet-memory-child.js', import.meta.url));
  const out = execFileSync(process.execPath, [child, '96'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const { peakGrowthMiB, activationMiB } = JSON.parse(out) as { peakGrowthMiB: number; activationMiB: number };
  const maps = peakGrowthMiB / activationMiB;
  assert.ok(maps < 11, `forward at 96³ raised peak RSS by ${peakGrowthMiB.toFixed(0)} MiB = ${maps.toFixed(1)} full-resolution maps of ${activationMiB} MiB (expected < 11)`);
  assert.ok(maps > 2, `peak growth ${peakGrowthMiB.toFixed(0)} MiB is implausibly small: the measurement is broken`);
});
