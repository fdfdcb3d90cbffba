// A batch producer for the DataLoader tests: random tensors drawn from a
// generator seeded by (seed, step), an optional failure naming a case, and an
// optional delay that makes production slower than consumption.
import * as torch from '@labelwise/torch';
import type { BatchArrays, BatchProducer } from '../src/data/loader.js';

export interface TestProducerOptions {
  seed: number;
  batch: number;
  size: number;
  failAtStep?: number;
  delayMs?: number;
  crashAtStep?: number;
}

export function testProducer(o: TestProducerOptions): BatchProducer {
  return async (step: number): Promise<BatchArrays> => {
    if (step === o.failAtStep) throw new Error(`case 'case_${String(step).padStart(3, '0')}': truncated image file`);
    if (step === o.crashAtStep) process.exit(3);
    if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
    return torch.tidy(() => {
      const g = new torch.Generator(o.seed * 1_000_003 + step);
      const image = torch.randn([o.batch, 1, o.size, o.size], { generator: g });
      const label = torch.randint(0, 4, [o.batch, o.size, o.size], { generator: g }).to('uint8');
      return {
        image: { data: image.toTypedArray(), shape: image.shape, dtype: 'float32' },
        label: { data: label.toTypedArray(), shape: label.shape, dtype: 'uint8' },
        step: { data: Int32Array.of(step), shape: [1], dtype: 'int32' },
      };
    });
  };
}
