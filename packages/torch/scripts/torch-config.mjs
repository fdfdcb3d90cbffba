// Prints compiler/linker settings for binding.gyp. Default: Debian's
// libtorch-dev (system paths). LIBTORCH=/path selects any other LibTorch
// root: an unpacked LibTorch zip (CPU or CUDA) or a PyTorch install's
// torch/ folder (which has include/ and lib/ the same way).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = process.env.LIBTORCH;
const what = process.argv[2];

function systemIncludes() {
  for (const base of ['/usr/include', '/usr/local/include']) {
    if (existsSync(join(base, 'ATen/ATen.h'))) return [base, join(base, 'torch/csrc/api/include')];
  }
  return [];
}

function libs(dir) {
  const have = (name) => dir === null || readdirSync(dir).some((f) => f.startsWith(`lib${name}.so`) || f === `${name}.lib`);
  const out = ['-ltorch', '-ltorch_cpu', '-lc10'];
  // CUDA kernels register themselves from these libraries' static
  // initialisers, so they must be linked even though no symbol is used.
  if (dir !== null && have('torch_cuda')) out.unshift('-Wl,--no-as-needed', '-ltorch_cuda', '-lc10_cuda', '-Wl,--as-needed');
  return out;
}

if (root && !existsSync(join(root, 'include', 'ATen', 'ATen.h'))) {
  console.error(`LIBTORCH=${root}: no include/ATen/ATen.h under it; point LIBTORCH at a LibTorch root (the folder with include/ and lib/)`);
  process.exit(1);
}
if (!root && systemIncludes().length === 0) {
  console.error('libtorch headers not found: install Debian\'s libtorch-dev (apt-get install libtorch-dev) or set LIBTORCH to a LibTorch root');
  process.exit(1);
}

const includes = root ? [join(root, 'include'), join(root, 'include/torch/csrc/api/include')] : systemIncludes();
const libdir = root ? join(root, 'lib') : null;
switch (what) {
  case 'include':
    console.log(includes.join(' '));
    break;
  case 'ldflags':
    console.log(libdir ? `-L${libdir} -Wl,-rpath,${libdir}` : '');
    break;
  case 'libs':
    console.log(libs(libdir).join(' '));
    break;
  default:
    console.error('usage: torch-config.mjs include|ldflags|libs');
    process.exit(2);
}
