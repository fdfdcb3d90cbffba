// Child process for nn-memory.test.ts: one no-grad PlainConvUNet forward on a
// fresh process, printing how far it raised the resident-set high-water mark.
import * as torch from '@labelwise/torch';
import { PlainConvUNet } from '../src/nn/index.js';

const size = Number(process.argv[2] ?? 64);
torch.setNumThreads(1);
const net = new PlainConvUNet({
  dims: 3, inChannels: 1, numClasses: 2, featuresPerStage: [16, 32, 64],
  kernelSizes: [[3, 3, 3], [3, 3, 3], [3, 3, 3]], strides: [[1, 1, 1], [2, 2, 2], [2, 2, 2]],
  nConvPerStage: [2, 2, 2], nConvPerStageDecoder: [2, 2],
});
net.eval();
const x = torch.randn([1, 1, size, size, size]);
// Warm-up at a small size so allocator and kernel set-up are not counted.
torch.tidy(() => torch.noGrad(() => net.forward(torch.randn([1, 1, 16, 16, 16]))));
const before = process.resourceUsage().maxRSS;
torch.tidy(() => torch.noGrad(() => net.forward(x)));
const after = process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify({ peakGrowthMiB: (after - before) / 1024, activationMiB: (16 * size ** 3 * 4) / 2 ** 20 }));
