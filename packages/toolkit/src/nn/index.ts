// Networks with the reference implementations' module trees (so their
// released state dicts load), and one registry to build them from configs.
export { Network, type NetworkInfo, defaultInit, heInit, kaimingConvInit, normalInit } from './network.js';
export { createNetwork, createEdgeNetwork, listNetworks, networkNames, registerNetwork, type NetworkConfig, type NetworkDescription, type NetworkSpec } from './registry.js';
export { addBcpHeads, bcpProjection, bcpPrediction } from './bcp-heads.js';
export { UNet2d, UNet2dEncoder, UNet2dDecoder, ConvBlock2d, DownBlock2d, UpBlock2d, UNET2D_DEFAULTS, type UNet2dOptions, type UNet2dUpsample, type DecoderOutput } from './unet2d.js';
export {
  PlainConvUNet,
  PlainConvEncoder,
  UNetDecoder,
  StackedConvBlocks,
  ConvDropoutNormReLU,
  PLAIN_CONV_UNET_DEFAULTS,
  resolvePlainConfig,
  fromPlan,
  fromNnunetPlans,
  nnunetFeatures,
  type PlainConvUNetConfig,
  type PlainConvUNetInput,
  type PlanTopology,
  type PlainNorm,
} from './plain-conv-unet.js';
export { UNet25d, ConvNormNonlinBlock, UNET25D_DEFAULTS, defaultUNet25dKernels, type UNet25dOptions } from './unet25d.js';
export { PaUNet3d, AttentionUNet3d, AttentionBlock, PaConvBlock, PaUpConv, PA_UNET_DEFAULTS, ATTENTION_UNET_DEFAULTS, type PaUNetOptions, type AttentionUNetOptions } from './unet3d.js';
export { VNet, VNetConvBlock, VNetResample, VNET_DEFAULTS, type VNetOptions, type VNetNorm, type VNetLayout, type VNetFeatures } from './vnet.js';
export { MobileNetV2, InvertedResidual, type MobileNetV2Output } from './mobilenetv2.js';
export { DeepLabV3Plus, Aspp, AsppBranch, DeepLabDecoder, DEEPLAB_DEFAULTS, type DeepLabOptions, type DeepLabOutputs, type DeepLabDecoderOutput } from './deeplabv3plus.js';
export {
  PatchDiscriminator,
  FcDiscriminator,
  PATCH_DISCRIMINATOR_DEFAULTS,
  FC_DISCRIMINATOR_DEFAULTS,
  type PatchDiscriminatorOptions,
  type FcDiscriminatorOptions,
} from './discriminators.js';
export {
  EdgeGuidedModule, EdgeUNet2d, EdgeVNet, EDGE_NETWORK_SPECS, EDGE_GUIDANCE_DEFAULTS, isEdgeGuided,
  type EdgeGuidanceOptions, type EdgeOutput, type EdgeGuidedNetwork, type EdgeUNet2dOptions, type EdgeVNetOptions, type EdgeNetworkSpec,
} from './edge-unet.js';
export { imageGradientMagnitude } from './sobel.js';
