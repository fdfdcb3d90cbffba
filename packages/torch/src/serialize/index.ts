// Serialization: safetensors read/write and PyTorch .pth (torch.save) import.
export { saveSafetensors, loadSafetensors, safetensorsHeader, type SafetensorsEntry, type SafetensorsHeader, type LoadSafetensorsOptions } from './safetensors.js';
export { loadPth, loadStateDictFromPth, type PthValue, type PthKey, type LoadPthOptions, type LoadStateDictFromPthOptions } from './pth.js';
