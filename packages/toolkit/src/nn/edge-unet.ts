// Extension (b) of Hsu & Hua, the network side: an Edge-Guided Module (EGM)
// in the decoders of BCP's 2D U-Net and 3D VNet. Their README says only that
// the EGM "enhances image boundaries using edge signals" in UNet and VNet;
// the architecture is not public. Design (docs/methods/semi.md), after the
// edge guidance module of ET-Net (Zhang et al., MICCAI 2019):
//
//   edge features   the two shallowest encoder maps (full and ½ resolution,
//                   where boundaries are still sharp) each go through
//                   conv3-BN-ReLU to E channels; the ½-resolution one is
//                   up-sampled; with the input's Sobel gradient magnitude
//                   (imageEdges) they are fused by conv3-BN-ReLU into edge
//                   features e (E channels, full resolution);
//   boundary head   conv1 → 1 channel of boundary logits, supervised by the
//                   label boundaries (edge-guidance.ts boundaryLoss);
//   gating          at each chosen decoder stage k, the stage's output d_k
//                   is re-weighted by the edge features average-pooled to
//                   its resolution:
//                     d_k ← d_k ⊙ (1 + tanh(conv1([d_k, pool(e)])))
//                   The gate convolutions start at zero, so an untrained EGM
//                   network computes exactly its base network; the gates
//                   learn to amplify (up to 2×) or suppress decoder
//                   features where the edge evidence says a boundary is.
//
// Parameter names extend the base networks' (encoder.*, decoder.* unchanged,
// plus egm.*), so BCP / unet2d checkpoints load into them non-strictly.
import { Generator, type Tensor, F, nn, cat, tidy } from '@labelwise/torch';
import { defaultInit, type NetworkInfo } from './network.js';
import { UNET2D_DEFAULTS, UNet2d, type UNet2dOptions, type DecoderOutput } from './unet2d.js';
import { VNET_DEFAULTS, VNet, type VNetOptions, type VNetFeatures } from './vnet.js';
import { type Field, bool, list, num, oneOf, optional } from '../config/schema.js';
import { imageGradientMagnitude } from './sobel.js';

export interface EdgeGuidanceOptions {
  /** Channels of the edge features E (default 16). */
  edgeChannels?: number;
  /** Feed the input's Sobel gradient magnitude to the module (default true). */
  imageEdges?: boolean;
  /** Decoder stages gated by the edge features, 1 (deepest) … 4 (full resolution); default all. */
  gateStages?: readonly number[];
}

export const EDGE_GUIDANCE_DEFAULTS = { edgeChannels: 16, imageEdges: true, gateStages: [1, 2, 3, 4] };

export interface EdgeOutput {
  logits: Tensor;
  /** Boundary logits [B, 1, ...spatial] at input resolution. */
  edges: Tensor;
}

/** A network with an edge head: what the semi-supervised recipes look for to add the boundary loss. */
export interface EdgeGuidedNetwork {
  forwardWithEdges(x: Tensor): EdgeOutput;
}

export function isEdgeGuided(m: unknown): m is EdgeGuidedNetwork {
  return typeof (m as { forwardWithEdges?: unknown })?.forwardWithEdges === 'function';
}

function convNormAct(dims: 2 | 3, cin: number, cout: number): nn.Sequential {
  return dims === 2
    ? new nn.Sequential(new nn.Conv2d(cin, cout, 3, { padding: 1 }), new nn.BatchNorm2d(cout), new nn.ReLU(true))
    : new nn.Sequential(new nn.Conv3d(cin, cout, 3, { padding: 1 }), new nn.BatchNorm3d(cout), new nn.ReLU(true));
}

/** The EGM: edge features and boundary logits from shallow encoder maps, and decoder gates. */
export class EdgeGuidedModule extends nn.Module<never[], never> {
  declare shallow: nn.Sequential;
  declare deep: nn.Sequential;
  declare fuse: nn.Sequential;
  declare head: nn.ConvNd;
  declare gates: nn.ModuleDict<nn.ConvNd>;
  readonly dims: 2 | 3;
  readonly imageEdges: boolean;

  /**
   * @param shallowChannels channels of the full- and half-resolution encoder maps
   * @param stageChannels channels of each gated decoder stage, by stage number
   */
  constructor(dims: 2 | 3, shallowChannels: readonly [number, number], stageChannels: ReadonlyMap<number, number>, o: Required<EdgeGuidanceOptions>) {
    super();
    this.dims = dims;
    this.imageEdges = o.imageEdges;
    const e = o.edgeChannels;
    this.addModule('shallow', convNormAct(dims, shallowChannels[0], e));
    this.addModule('deep', convNormAct(dims, shallowChannels[1], e));
    this.addModule('fuse', convNormAct(dims, 2 * e + (o.imageEdges ? 1 : 0), e));
    this.addModule('head', dims === 2 ? new nn.Conv2d(e, 1, 1) : new nn.Conv3d(e, 1, 1));
    const gates = new nn.ModuleDict<nn.ConvNd>();
    for (const [stage, c] of stageChannels) gates.set(`stage${stage}`, dims === 2 ? new nn.Conv2d(c + e, c, 1) : new nn.Conv3d(c + e, c, 1));
    this.addModule('gates', gates);
  }

  forward(): never {
    throw new Error('EdgeGuidedModule: called by the edge-guided network (edges() and gate())');
  }

  /** Zeroes the gate convolutions, so every gate is the identity until trained. */
  zeroGates(): void {
    for (const g of this.gates.values()) {
      nn.init.zeros_(g.weight);
      if (g.bias !== null) nn.init.zeros_(g.bias);
    }
  }

  /** Edge features (E channels, full resolution) and boundary logits from the shallow maps and the input. */
  edges(full: Tensor, half: Tensor, input: Tensor): { features: Tensor; logits: Tensor } {
    return tidy(() => {
      const up = F.interpolate(this.deep.forward(half), { size: full.shape.slice(2), mode: this.dims === 2 ? 'bilinear' : 'trilinear', alignCorners: false });
      const parts = [this.shallow.forward(full), up];
      if (this.imageEdges) parts.push(imageGradientMagnitude(input));
      const features = this.fuse.forward(cat(parts, 1));
      return { features, logits: this.head.forward(features) };
    });
  }

  /** Gates decoder stage `stage`'s output `d` with the edge features (identity for ungated stages). */
  gate(stage: number, d: Tensor, features: Tensor): Tensor {
    const key = `stage${stage}`;
    if (!this.gates.has(key)) return d;
    const g = this.gates.get(key);
    return tidy(() => {
      const factor = features.shape.slice(2).map((n, i) => n / d.shape[2 + i]);
      let e = features;
      if (factor.some((f) => f !== 1)) {
        if (factor.some((f) => !Number.isInteger(f))) throw new Error(`EdgeGuidedModule: stage ${stage} size [${d.shape.slice(2).join(', ')}] does not divide the edge features' [${features.shape.slice(2).join(', ')}]`);
        e = this.dims === 2 ? F.avgPool2d(features, factor, { stride: factor }) : F.avgPool3d(features, factor, { stride: factor });
      }
      return d.mul(g.forward(cat([d, e], 1)).tanh().add(1));
    });
  }
}

function resolveEdge(o: EdgeGuidanceOptions, what: string): Required<EdgeGuidanceOptions> {
  const r = { ...EDGE_GUIDANCE_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as Required<EdgeGuidanceOptions>;
  const bad = r.gateStages.find((s) => !Number.isInteger(s) || s < 1 || s > 4);
  if (bad !== undefined) throw new Error(`${what}: gateStages must list decoder stages 1…4, got ${bad}`);
  if (!Number.isInteger(r.edgeChannels) || r.edgeChannels < 1) throw new Error(`${what}: edgeChannels must be a positive integer, got ${r.edgeChannels}`);
  return r;
}

export interface EdgeUNet2dOptions extends UNet2dOptions, EdgeGuidanceOptions {}

/** BCP's 2D U-Net with the Edge-Guided Module in its decoder. */
export class EdgeUNet2d extends UNet2d implements EdgeGuidedNetwork {
  declare egm: EdgeGuidedModule;

  constructor(options: EdgeUNet2dOptions = {}) {
    const { edgeChannels, imageEdges, gateStages, ...base } = options;
    super(base);
    const e = resolveEdge({ edgeChannels, imageEdges, gateStages }, 'unet2d_egm');
    const fc = options.featureChannels ?? UNET2D_DEFAULTS.featureChannels;
    // Decoder stage k (up1…up4) outputs features[4 − k] channels.
    const stages = new Map([...new Set(e.gateStages)].sort((a, b) => a - b).map((k) => [k, fc[4 - k]] as [number, number]));
    this.addModule('egm', new EdgeGuidedModule(2, [fc[0], fc[1]], stages, e));
    if (options.generator !== undefined) defaultInit(this.egm, options.generator);
    this.egm.zeroGates();
    (this as { info: NetworkInfo }).info = { ...this.info, name: 'unet2d_egm' };
  }

  override forwardWithFeatures(x: Tensor): DecoderOutput {
    const { logits, edges, features } = this.runEdges(x);
    edges.dispose();
    return { logits, features };
  }

  forwardWithEdges(x: Tensor): EdgeOutput {
    const { logits, edges, features } = this.runEdges(x);
    features.dispose();
    return { logits, edges };
  }

  private runEdges(x: Tensor): EdgeOutput & { features: Tensor } {
    this.checkInput(x);
    return tidy(() => {
      const f = this.encoder.forward(x);
      const edge = this.egm.edges(f[0], f[1], x);
      const dec = this.decoder;
      let d = this.egm.gate(1, dec.up1.forward(f[4], f[3]), edge.features);
      d = this.egm.gate(2, dec.up2.forward(d, f[2]), edge.features);
      d = this.egm.gate(3, dec.up3.forward(d, f[1]), edge.features);
      d = this.egm.gate(4, dec.up4.forward(d, f[0]), edge.features);
      return { logits: dec.out_conv.forward(d), edges: edge.logits, features: d };
    });
  }
}

export interface EdgeVNetOptions extends VNetOptions, EdgeGuidanceOptions {}

/** BCP's VNet with the Edge-Guided Module in its decoder. */
export class EdgeVNet extends VNet implements EdgeGuidedNetwork {
  declare egm: EdgeGuidedModule;

  constructor(options: EdgeVNetOptions = {}) {
    const { edgeChannels, imageEdges, gateStages, ...base } = options;
    super(base);
    const e = resolveEdge({ edgeChannels, imageEdges, gateStages }, 'vnet_egm');
    const nf = options.nFilters ?? VNET_DEFAULTS.nFilters;
    // Decoder stage k (block_six … block_nine) outputs nf·2^(4 − k) channels.
    const stages = new Map([...new Set(e.gateStages)].sort((a, b) => a - b).map((k) => [k, nf * 2 ** (4 - k)] as [number, number]));
    this.addModule('egm', new EdgeGuidedModule(3, [nf, 2 * nf], stages, e));
    if (options.generator !== undefined) defaultInit(this.egm, options.generator);
    this.egm.zeroGates();
    (this as { info: NetworkInfo }).info = { ...this.info, name: 'vnet_egm' };
  }

  private block(name: string): nn.AnyModule {
    if (this.layout === 'flat') return this.getSubmodule(name);
    const decoder = ['block_five_up', 'block_six', 'block_six_up', 'block_seven', 'block_seven_up', 'block_eight', 'block_eight_up', 'block_nine', 'out_conv'];
    return this.getSubmodule(`${decoder.includes(name) ? 'decoder' : 'encoder'}.${name}`);
  }

  override forward(x: Tensor): Tensor {
    const { logits, edges, bottleneck } = this.runEdges(x);
    edges.dispose();
    bottleneck.dispose();
    return logits;
  }

  override forwardWithFeatures(x: Tensor): VNetFeatures {
    const { logits, edges, bottleneck } = this.runEdges(x);
    edges.dispose();
    const features = F.maxPool3d(bottleneck, 3, { stride: 2 });
    bottleneck.dispose();
    return { logits, features };
  }

  forwardWithEdges(x: Tensor): EdgeOutput {
    const { logits, edges, bottleneck } = this.runEdges(x);
    bottleneck.dispose();
    return { logits, edges };
  }

  private runEdges(x: Tensor): EdgeOutput & { bottleneck: Tensor } {
    this.checkInput(x);
    return tidy(() => {
      const b = (name: string, t: Tensor): Tensor => (this.block(name) as nn.Module).forward(t);
      const drop = this.getSubmodule(this.layout === 'flat' ? 'dropout' : 'encoder.dropout') as nn.Module;
      const x1 = b('block_one', x);
      const x2 = b('block_two', b('block_one_dw', x1));
      const x3 = b('block_three', b('block_two_dw', x2));
      const x4 = b('block_four', b('block_three_dw', x3));
      let x5 = b('block_five', b('block_four_dw', x4));
      if (this.hasDropout) x5 = drop.forward(x5);
      const edge = this.egm.edges(x1, x2, x);
      let y = this.egm.gate(1, b('block_six', b('block_five_up', x5).add(x4)), edge.features);
      y = this.egm.gate(2, b('block_seven', b('block_six_up', y).add(x3)), edge.features);
      y = this.egm.gate(3, b('block_eight', b('block_seven_up', y).add(x2)), edge.features);
      y = this.egm.gate(4, b('block_nine', b('block_eight_up', y).add(x1)), edge.features);
      if (this.hasDropout) y = drop.forward(y);
      return { logits: b('out_conv', y), edges: edge.logits, bottleneck: x5 };
    });
  }
}

// ---- registry entries ---------------------------------------------------
// The network registry (src/nn/registry.ts) has no public registration API;
// these specs have its NetworkSpec shape so it can list them as they are.

const int = (o: { min?: number; max?: number; default?: number; description?: string } = {}): Field<number> => num({ ...o, int: true });
const prob = num({ min: 0, max: 1 });

const edgeParams = {
  edgeChannels: int({ min: 1, default: EDGE_GUIDANCE_DEFAULTS.edgeChannels, description: 'channels of the edge features' }),
  imageEdges: bool({ default: EDGE_GUIDANCE_DEFAULTS.imageEdges, description: "feed the input's Sobel gradient magnitude to the EGM" }),
  gateStages: list(int({ min: 1, max: 4 }), { minLength: 0, default: EDGE_GUIDANCE_DEFAULTS.gateStages, description: 'decoder stages gated by edge features (1 deepest … 4 full resolution)' }),
};

export interface EdgeNetworkSpec {
  name: string;
  summary: string;
  reference: string;
  params: Record<string, Field<unknown>>;
  build(p: Record<string, unknown>, generator: Generator | undefined): EdgeUNet2d | EdgeVNet;
}

export const EDGE_NETWORK_SPECS: EdgeNetworkSpec[] = [
  {
    name: 'unet2d_egm',
    summary: "BCP's 2D U-Net with an Edge-Guided Module (edge features from the shallow encoder + Sobel, boundary head, gated decoder)",
    reference: 'Hsu & Hua (code unpublished; design in docs/methods/semi.md); base: DeepMed-Lab-ECNU/BCP UNet_2d',
    params: {
      inChannels: int({ min: 1, default: UNET2D_DEFAULTS.inChannels, description: 'input channels' }),
      numClasses: int({ min: 1, default: UNET2D_DEFAULTS.numClasses, description: 'output classes' }),
      featureChannels: list(int({ min: 1 }), { length: 5, default: UNET2D_DEFAULTS.featureChannels, description: 'channels per level' }),
      dropout: list(prob, { length: 5, default: UNET2D_DEFAULTS.dropout, description: 'dropout per encoder level' }),
      upsample: oneOf(['bilinear', 'transpose'] as const, { default: UNET2D_DEFAULTS.upsample }),
      bcpHeads: bool({ default: UNET2D_DEFAULTS.bcpHeads }),
      bcpHeadClasses: int({ min: 1, default: UNET2D_DEFAULTS.bcpHeadClasses }),
      ...edgeParams,
    },
    build: (p, generator) => new EdgeUNet2d({ ...(p as object), generator }),
  },
  {
    name: 'vnet_egm',
    summary: "BCP's VNet with an Edge-Guided Module (edge features from the shallow encoder + 3D Sobel, boundary head, gated decoder)",
    reference: 'Hsu & Hua (code unpublished; design in docs/methods/semi.md); base: DeepMed-Lab-ECNU/BCP VNet',
    params: {
      inChannels: int({ min: 1, default: VNET_DEFAULTS.inChannels, description: 'input channels' }),
      numClasses: int({ min: 1, default: VNET_DEFAULTS.numClasses, description: 'output classes' }),
      nFilters: int({ min: 1, default: VNET_DEFAULTS.nFilters }),
      normalization: oneOf(['batchnorm', 'groupnorm', 'instancenorm', 'none'] as const, { default: VNET_DEFAULTS.normalization }),
      hasDropout: bool({ default: VNET_DEFAULTS.hasDropout }),
      residual: bool({ default: VNET_DEFAULTS.residual }),
      layout: oneOf(['bcp', 'flat'] as const, { default: VNET_DEFAULTS.layout }),
      bcpHeads: optional(bool()),
      bcpHeadClasses: int({ min: 1, default: VNET_DEFAULTS.bcpHeadClasses }),
      ...edgeParams,
    },
    build: (p, generator) => new EdgeVNet({ ...(p as object), generator }),
  },
];
