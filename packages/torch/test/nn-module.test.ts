// The Module machinery: registration, dotted names, state dicts, loading and
// its errors, modes, freezing, conversion, memory, containers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as torch from '../src/index.js';
import { nn, type Tensor } from '../src/index.js';

class Block extends nn.Module {
  declare conv: nn.Conv1d;
  declare bn: nn.BatchNorm1d;
  constructor(cin: number, cout: number) {
    super();
    this.addModule('conv', new nn.Conv1d(cin, cout, 3, { padding: 1 }));
    this.addModule('bn', new nn.BatchNorm1d(cout));
  }
  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.bn.forward(this.conv.forward(x)).relu());
  }
}

class Net extends nn.Module {
  declare gamma: nn.Parameter;
  declare step: Tensor;
  declare encoder: nn.Sequential;
  declare fc: nn.Linear;
  constructor() {
    super();
    this.registerParameter('gamma', torch.ones([1]));
    this.registerBuffer('step', torch.zeros([1]));
    this.registerBuffer('cache', torch.zeros([2]), false);
    this.addModule('encoder', new nn.Sequential(new Block(2, 3), new Block(3, 4)));
    this.addModule('fc', new nn.Linear(4, 2));
  }
  forward(x: Tensor): Tensor {
    return torch.tidy(() => this.fc.forward(this.encoder.forward(x).mean(2)).mul(this.gamma));
  }
}

const sdKeys = (m: nn.AnyModule): string[] => torch.tidy(() => [...m.stateDict().keys()]);

test('dotted names and PyTorch state dict order: own params, own persistent buffers, children', () => {
  const net = new Net();
  assert.deepEqual(sdKeys(net), [
    'gamma', 'step',
    'encoder.0.conv.weight', 'encoder.0.conv.bias', 'encoder.0.bn.weight', 'encoder.0.bn.bias',
    'encoder.0.bn.running_mean', 'encoder.0.bn.running_var', 'encoder.0.bn.num_batches_tracked',
    'encoder.1.conv.weight', 'encoder.1.conv.bias', 'encoder.1.bn.weight', 'encoder.1.bn.bias',
    'encoder.1.bn.running_mean', 'encoder.1.bn.running_var', 'encoder.1.bn.num_batches_tracked',
    'fc.weight', 'fc.bias',
  ]);
  assert.deepEqual(net.namedParameters().map(([k]) => k), [
    'gamma', 'encoder.0.conv.weight', 'encoder.0.conv.bias', 'encoder.0.bn.weight', 'encoder.0.bn.bias',
    'encoder.1.conv.weight', 'encoder.1.conv.bias', 'encoder.1.bn.weight', 'encoder.1.bn.bias', 'fc.weight', 'fc.bias',
  ]);
  assert.deepEqual(net.namedBuffers().map(([k]) => k).slice(0, 3), ['step', 'cache', 'encoder.0.bn.running_mean'], 'namedBuffers includes non-persistent ones');
  assert.deepEqual(net.namedModules().map(([k]) => k), ['', 'encoder', 'encoder.0', 'encoder.0.conv', 'encoder.0.bn', 'encoder.1', 'encoder.1.conv', 'encoder.1.bn', 'fc']);
  assert.deepEqual(net.namedChildren().map(([k]) => k), ['encoder', 'fc']);
  assert.deepEqual(net.namedParameters({ recurse: false }).map(([k]) => k), ['gamma']);
  assert.deepEqual(net.fc.namedParameters({ prefix: 'head' }).map(([k]) => k), ['head.weight', 'head.bias']);
  assert.equal(net.getSubmodule('encoder.1.bn'), (net.encoder.at(1) as Block).bn);
  assert.equal(net.getParameter('encoder.0.conv.weight'), (net.encoder.at(0) as Block).conv.weight);
  assert.equal(net.getBuffer('encoder.1.bn.running_var'), (net.encoder.at(1) as Block).bn.runningVar);
  assert.throws(() => net.getSubmodule('encoder.2.conv'), /Sequential has no attribute `2`/);
  assert.throws(() => net.getParameter('fc.gamma'), /Linear has no parameter `gamma`/);
  assert.equal(net.numParameters(), 1 + (2 * 3 * 3 + 3) + 6 + (3 * 4 * 3 + 4) + 8 + (4 * 2 + 2));
  net.dispose();
});

test('shared parameters and modules are reported once; the state dict lists every path', () => {
  const lin = new nn.Linear(3, 3);
  const seq = new nn.Sequential(lin, new nn.ReLU(), lin);
  assert.equal(seq.parameters().length, 2);
  assert.equal(seq.modules().length, 3);
  assert.deepEqual(sdKeys(seq), ['0.weight', '0.bias', '2.weight', '2.bias']);
  assert.equal(seq.numParameters(), 12);
  seq.dispose();
});

test('registration installs accessors that keep the registry in step with assignments', () => {
  const net = new Net();
  const old = net.fc;
  const head = new nn.Linear(4, 7);
  net.fc = head;
  assert.equal(net.getSubmodule('fc'), head);
  assert.deepEqual(sdKeys(net).slice(-2), ['fc.weight', 'fc.bias']);
  assert.deepEqual(torch.tidy(() => net.stateDict().get('fc.bias')!.shape), [7]);
  const p = new nn.Parameter(torch.full([1], 3, { dtype: 'float32' }));
  net.gamma = p;
  assert.equal(net.parameters()[0], p);
  assert.throws(() => { (net as unknown as { gamma: Tensor }).gamma = torch.ones([1]); }, /cannot assign 'Tensor\(float32\)' as parameter 'gamma' \(nn.Parameter or null expected\)/);
  assert.throws(() => { (net as unknown as { fc: unknown }).fc = 3; }, /cannot assign 'number' as child module 'fc'/);
  net.step = torch.ones([1]);
  assert.deepEqual(torch.tidy(() => net.stateDict().get('step')!.tolist()), [1]);
  net.fc = null as unknown as nn.Linear;
  assert.ok(!sdKeys(net).includes('fc.weight'), 'a null child drops out of the state dict');
  assert.throws(() => net.registerParameter('a.b', torch.ones([1])), /parameter name can't contain "\."/);
  assert.throws(() => net.registerBuffer('', torch.ones([1])), /buffer name can't be empty string/);
  assert.throws(() => net.registerBuffer('gamma', torch.ones([1])), /attribute 'gamma' already exists \(as a parameter\)/);
  assert.throws(() => net.addModule('forward', new nn.ReLU()), /attribute 'forward' already exists/);
  assert.throws(() => net.addModule('training', new nn.ReLU()), /attribute 'training' already exists/);
  old.dispose();
  net.dispose();
});

test('members registered in field initializers stay registered when reassigned', () => {
  class Head extends nn.Module {
    proj = this.addModule('proj', new nn.Linear(2, 2));
    scale = this.registerParameter('scale', torch.ones([2]));
    forward(x: Tensor): Tensor {
      return this.proj.forward(x).mul(this.scale);
    }
  }
  const h = new Head();
  assert.ok(h.scale instanceof nn.Parameter);
  assert.deepEqual(sdKeys(h), ['scale', 'proj.weight', 'proj.bias']);
  const old = h.proj;
  h.proj = new nn.Linear(2, 5);
  assert.deepEqual(torch.tidy(() => h.stateDict().get('proj.weight')!.shape), [5, 2]);
  assert.equal(h.getSubmodule('proj'), h.proj);
  h.proj = new nn.Linear(2, 3);
  assert.deepEqual(h.namedParameters().map(([k, p]) => `${k}:${p.shape}`), ['scale:2', 'proj.weight:3,2', 'proj.bias:3']);
  old.dispose();
  h.dispose();
});

test('stateDict values alias the module tensors; keepVars returns the tensors themselves', () => {
  const lin = new nn.Linear(2, 2);
  torch.tidy(() => {
    const sd = lin.stateDict();
    const w = sd.get('weight')!;
    assert.notEqual(w, lin.weight);
    assert.equal(w.requiresGrad, false);
    assert.ok(w.sharesStorageWith(lin.weight));
    assert.equal(lin.stateDict({ keepVars: true }).get('weight'), lin.weight);
    assert.deepEqual([...lin.stateDict({ prefix: 'm.' }).keys()], ['m.weight', 'm.bias']);
  });
  assert.equal(lin.weight.isDisposed, false, 'the tidy scope disposed only the aliases');
  lin.dispose();
});

test('loadStateDict copies in place with dtype casts and accepts a Record', () => {
  const a = new Net();
  const b = new Net();
  const weightObj = b.fc.weight;
  torch.tidy(() => {
    const sd = a.stateDict();
    // float64 values are cast to the module's float32, as copy_ does.
    const rec: Record<string, Tensor> = {};
    for (const [k, v] of sd) rec[k] = v.dtype === 'float32' ? v.double() : v;
    assert.deepEqual(b.loadStateDict(rec), { missingKeys: [], unexpectedKeys: [] });
  });
  assert.equal(b.fc.weight, weightObj, 'same Parameter object');
  assert.equal(b.fc.weight.dtype, 'float32');
  assert.deepEqual(b.fc.weight.tolist(), a.fc.weight.tolist());
  assert.equal(b.fc.weight.requiresGrad, true);
  assert.equal(b.fc.weight.gradFn, null);
  a.dispose();
  b.dispose();
});

test('loadStateDict errors name the keys and both shapes; nothing is copied on error', () => {
  const net = new Net();
  const before = net.fc.bias!.tolist();
  torch.tidy(() => {
    const sd = net.stateDict();
    const bad = new Map(sd);
    bad.delete('fc.bias');
    bad.set('fc.extra', torch.zeros([1]));
    bad.set('fc.weight', torch.zeros([3, 4]));
    bad.set('gamma', torch.full([1], 5, { dtype: 'float32' }));
    assert.throws(
      () => net.loadStateDict(bad),
      (e: Error) =>
        e.message.startsWith('Error(s) in loading state_dict for Net:') &&
        e.message.includes('Missing key(s) in state_dict: "fc.bias".') &&
        e.message.includes('Unexpected key(s) in state_dict: "fc.extra".') &&
        e.message.includes('size mismatch for fc.weight: copying a param with shape [3, 4] from checkpoint, the shape in current model is [2, 4].'),
    );
    assert.deepEqual(net.gamma.tolist(), [1], 'no partial load');
    // Non-strict: missing / unexpected are returned; a shape mismatch is still an error.
    assert.throws(() => net.loadStateDict(bad, { strict: false }), /size mismatch for fc\.weight/);
    bad.delete('fc.weight');
    const res = net.loadStateDict(bad, { strict: false });
    assert.deepEqual(res, { missingKeys: ['fc.weight', 'fc.bias'], unexpectedKeys: ['fc.extra'] });
    assert.deepEqual(net.gamma.tolist(), [5]);
    assert.deepEqual(net.fc.bias!.tolist(), before);
  });
  net.dispose();
});

test('loading compatibility rules: num_batches_tracked defaults to 0, 1-element into 0-d, untracked instance-norm stats dropped', () => {
  const bn = new nn.BatchNorm1d(3);
  torch.tidy(() => {
    torch.noGrad(() => bn.numBatchesTracked!.add_(5));
    const sd = new Map([
      ['weight', torch.ones([3])],
      ['bias', torch.zeros([3])],
      ['running_mean', torch.zeros([3])],
      ['running_var', torch.ones([3])],
    ]);
    assert.deepEqual(bn.loadStateDict(sd), { missingKeys: [], unexpectedKeys: [] });
    assert.equal(bn.numBatchesTracked!.item(), 0);
    sd.set('num_batches_tracked', torch.tensor([7]));
    bn.loadStateDict(sd);
    assert.equal(bn.numBatchesTracked!.item(), 7);
    assert.deepEqual(bn.numBatchesTracked!.shape, []);
    const inorm = new nn.InstanceNorm2d(3, { affine: true });
    const res = inorm.loadStateDict({ weight: torch.ones([3]), bias: torch.zeros([3]), running_mean: torch.zeros([3]), running_var: torch.ones([3]) });
    assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  });
  bn.dispose();
});

test('train()/eval() recurse and switch dropout and batch norm', () => {
  const net = new nn.Sequential(new nn.Linear(4, 4), new nn.Dropout(0.5), new nn.BatchNorm1d(4));
  assert.ok(net.modules().every((m) => m.training));
  assert.equal(net.eval(), net);
  assert.ok(net.modules().every((m) => !m.training));
  net.train();
  assert.ok(net.modules().every((m) => m.training));
  net.train(false);
  assert.equal(net.at(1).training, false);
  assert.throws(() => net.train('yes' as unknown as boolean), /training mode is expected to be boolean/);

  torch.tidy(() => {
    const drop = new nn.Dropout(0.5);
    const x = torch.ones([2000]);
    const y = drop.forward(x);
    const zeros = (y.toTypedArray() as Float32Array).filter((v) => v === 0).length;
    assert.ok(zeros > 800 && zeros < 1200, `about half dropped (${zeros})`);
    assert.ok((y.toTypedArray() as Float32Array).every((v) => v === 0 || v === 2), 'survivors scaled by 1/(1-p)');
    drop.eval();
    assert.deepEqual(drop.forward(x).tolist(), x.tolist());

    const bn = new nn.BatchNorm1d(2, { momentum: 0.5 });
    const xb = torch.tensor([[1, 10], [3, 30]], { dtype: 'float32' });
    const yt = bn.forward(xb);
    assert.deepEqual((yt.tolist() as number[][]).map((r) => r.map((v) => Math.round(v * 1000) / 1000)), [[-1, -1], [1, 1]], 'batch statistics in training');
    assert.deepEqual(bn.runningMean!.tolist(), [1, 10], 'running mean moved halfway to the batch mean');
    assert.deepEqual(bn.numBatchesTracked!.item(), 1);
    bn.eval();
    const ye = bn.forward(xb).tolist() as number[][];
    const rv = bn.runningVar!.tolist() as number[];
    assert.ok(Math.abs(ye[0][0] - (1 - 1) / Math.sqrt(rv[0] + 1e-5)) < 1e-6 && Math.abs(ye[1][1] - (30 - 10) / Math.sqrt(rv[1] + 1e-5)) < 1e-5, 'running statistics in eval');
    assert.equal(bn.numBatchesTracked!.item(), 1, 'eval does not count batches');
    bn.dispose();
  });
  net.dispose();
});

test('requiresGrad_(false) freezes: frozen parameters get no gradient', () => {
  const net = new Net();
  net.encoder.requiresGrad_(false);
  assert.equal(net.numParameters(true), 1 + 10);
  torch.tidy(() => net.forward(torch.randn([2, 2, 5])).sum().backward());
  assert.ok(net.encoder.parameters().every((p) => p.grad === null));
  assert.ok(net.fc.weight.grad !== null && net.gamma.grad !== null);
  net.zeroGrad(false);
  assert.deepEqual(net.fc.bias!.grad!.tolist(), [0, 0], 'zeroGrad(false) zeroes in place');
  net.zeroGrad();
  assert.equal(net.fc.weight.grad, null, 'zeroGrad() drops the gradients');
  net.dispose();
});

test("to('float64') converts parameters, gradients and floating buffers in place", () => {
  const net = new Net();
  const w = net.fc.weight;
  torch.tidy(() => net.forward(torch.randn([2, 2, 5])).sum().backward());
  assert.equal(net.to('float64'), net);
  assert.equal(net.fc.weight, w, 'same Parameter object (optimizers keep working)');
  assert.equal(w.dtype, 'float64');
  assert.equal(w.requiresGrad, true);
  assert.equal(w.isLeaf, true);
  assert.equal(w.grad!.dtype, 'float64');
  assert.equal(net.step.dtype, 'float64');
  assert.equal(net.getBuffer('encoder.0.bn.running_mean').dtype, 'float64');
  assert.equal(net.getBuffer('encoder.0.bn.num_batches_tracked').dtype, 'int64', 'integer buffers keep their dtype');
  assert.equal(torch.tidy(() => net.forward(torch.randn([2, 2, 5], { dtype: 'float64' })).dtype), 'float64');
  net.float();
  assert.equal(w.dtype, 'float32');
  net.to({ device: 'cpu', dtype: 'float64' });
  assert.equal(w.dtype, 'float64');
  assert.throws(() => net.to('int64'), /nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=int64/);
  net.dispose();
});

test('parameters and buffers survive tidy(); dispose() frees them', () => {
  const net = torch.tidy(() => {
    const m = new Net();
    m.forward(torch.randn([1, 2, 4]));
    return m;
  });
  assert.ok(net.parameters().every((p) => !p.isDisposed));
  assert.ok(net.buffers().every((b) => !b.isDisposed));
  const params = net.parameters();
  net.dispose();
  assert.ok(params.every((p) => p.isDisposed));
  assert.throws(() => params[0].shape, /used after dispose/);
});

test('Parameter shares storage with its data, is a kept leaf that requires grad', () => {
  const t = torch.zeros([3]);
  const p = torch.tidy(() => new nn.Parameter(t));
  assert.ok(p instanceof torch.Tensor);
  assert.ok(!p.isDisposed);
  assert.ok(p.isLeaf && p.requiresGrad);
  assert.ok(p.sharesStorageWith(t));
  assert.equal(new nn.Parameter(t, false).requiresGrad, false);
  assert.match(p.toString(), /^Parameter containing:\ntensor\(\[0,0,0\]/);
  // registerParameter takes a plain tensor over (no leaked second reference) and keeps a Parameter as is.
  const m = new nn.Identity();
  const plain = torch.ones([2]);
  const reg = m.registerParameter('w', plain);
  assert.ok(plain.isDisposed && !reg.isDisposed && reg instanceof nn.Parameter);
  assert.equal(m.registerParameter('v', p), p);
  assert.ok(!t.isDisposed);
  m.dispose();
});

test('apply() visits children before the module itself', () => {
  const net = new Net();
  const seen: string[] = [];
  net.apply((m) => seen.push(m.constructor.name));
  assert.deepEqual(seen, ['Conv1d', 'BatchNorm1d', 'Block', 'Conv1d', 'BatchNorm1d', 'Block', 'Sequential', 'Linear', 'Net']);
  net.apply((m) => {
    if (m instanceof nn.Conv1d) nn.init.zeros_(m.weight);
  });
  assert.ok((net.getParameter('encoder.1.conv.weight').toTypedArray() as Float32Array).every((v) => v === 0));
  net.dispose();
});

test('gradients flow through modules (float64 gradcheck w.r.t. input and parameters)', () => {
  torch.manualSeed(2);
  const net = new nn.Sequential(new nn.Conv1d(2, 3, 3, { padding: 1 }), new nn.GroupNorm(1, 3), new nn.PReLU(3), new nn.Flatten(), new nn.Linear(12, 2)).double();
  const x = torch.randn([2, 2, 4], { dtype: 'float64', requiresGrad: true });
  const prelu = net.at(2) as nn.PReLU;
  assert.ok(torch.gradcheck((xi) => net.forward(xi), [x, prelu.weight, (net.at(0) as nn.Conv1d).weight]));
  net.dispose();
});

test('Sequential: positional access, append/insert/pop renumbering, slices keep names, named children', () => {
  const a = new nn.ReLU();
  const b = new nn.Tanh();
  const c = new nn.Sigmoid();
  const seq = new nn.Sequential(a, b);
  assert.equal(seq.length, 2);
  assert.equal(seq.at(-1), b);
  seq.append(c);
  assert.deepEqual(seq.namedChildren().map(([k, m]) => [k, m]), [['0', a], ['1', b], ['2', c]]);
  const d = new nn.Identity();
  seq.insert(1, d);
  assert.deepEqual(seq.namedChildren().map(([k, m]) => [k, m]), [['0', a], ['1', d], ['2', b], ['3', c]]);
  assert.equal(seq.pop(1), d);
  assert.deepEqual([...seq], [a, b, c]);
  assert.deepEqual(seq.slice(1).namedChildren().map(([k]) => k), ['1', '2']);
  seq.set(0, d);
  assert.equal(seq.at(0), d);
  assert.throws(() => seq.at(3), /Sequential.at: index 3 is out of range for length 3/);
  const named = new nn.Sequential({ conv: new nn.Conv2d(1, 2, 1), act: new nn.ReLU() });
  assert.deepEqual(sdKeys(named), ['conv.weight', 'conv.bias']);
  assert.deepEqual(torch.tidy(() => named.forward(torch.ones([1, 1, 2, 2])).shape), [1, 2, 2, 2]);
  const y = torch.tidy(() => new nn.Sequential().forward(torch.ones([2])).tolist());
  assert.deepEqual(y, [1, 1], 'an empty Sequential is the identity');
  named.dispose();
});

test('ModuleList and ModuleDict register their modules and are not callable', () => {
  const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 3)]);
  list.append(new nn.Linear(3, 1));
  assert.equal(list.length, 3);
  assert.deepEqual(sdKeys(list), ['0.weight', '0.bias', '1.weight', '1.bias', '2.weight', '2.bias']);
  assert.equal(list.toArray().length, 3);
  list.insert(0, new nn.Linear(1, 2));
  assert.deepEqual(list.at(0).weight.shape, [2, 1]);
  assert.deepEqual(list.at(3).weight.shape, [1, 3]);
  assert.throws(() => (list as unknown as { forward(): void }).forward(), /ModuleList is not callable/);

  const dict = new nn.ModuleDict<nn.Linear>({ a: new nn.Linear(1, 1) });
  dict.set('b', new nn.Linear(1, 2));
  assert.deepEqual(dict.keys(), ['a', 'b']);
  assert.deepEqual([...dict], ['a', 'b']);
  assert.deepEqual(sdKeys(dict), ['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  assert.equal(dict.get('b').outFeatures, 2);
  assert.ok(dict.has('a'));
  const popped = dict.pop('a');
  assert.equal(popped.inFeatures, 1);
  assert.deepEqual(dict.keys(), ['b']);
  assert.throws(() => dict.get('a'), /ModuleDict has no key 'a' \(keys: b\)/);
  assert.throws(() => dict.set('x.y', new nn.Linear(1, 1)), /module name can't contain "\."/);
  dict.clear();
  assert.equal(dict.length, 0);
  list.dispose();
  popped.dispose();
});

test('printing a custom module nests the children like PyTorch', () => {
  const net = new Net();
  assert.equal(
    net.toString(),
    [
      'Net(',
      '  (encoder): Sequential(',
      '    (0): Block(',
      '      (conv): Conv1d(2, 3, kernel_size=(3,), stride=(1,), padding=(1,))',
      '      (bn): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
      '    )',
      '    (1): Block(',
      '      (conv): Conv1d(3, 4, kernel_size=(3,), stride=(1,), padding=(1,))',
      '      (bn): BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)',
      '    )',
      '  )',
      '  (fc): Linear(in_features=4, out_features=2, bias=True)',
      ')',
    ].join('\n'),
  );
  net.dispose();
});
