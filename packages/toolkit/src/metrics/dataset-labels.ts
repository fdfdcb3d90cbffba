// Classes to score from a dataset description: nnU-Net v2 dataset.json
// ("labels": {"background": 0, "tumour": 1, "whole": [1, 2]}, optional
// "ignore" label) or the Medical Segmentation Decathlon's
// ("labels": {"0": "background", "1": "edema"}).
import fs from 'node:fs';
import type { ClassSpec } from './labels.js';

export interface DatasetClasses {
  /** Class name → label or region (background left out). */
  classes: Record<string, ClassSpec>;
  /** nnU-Net's "ignore" label, when the dataset declares one. */
  ignoreLabel?: number;
}

function isLabel(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** Classes from a parsed dataset.json object; `source` names it in errors. */
export function classesFromDatasetJson(json: unknown, source = 'dataset.json'): DatasetClasses {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${source}: expected a JSON object`);
  const labels = (json as Record<string, unknown>).labels;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) throw new Error(`${source}: field "labels" is missing or not an object (expected {"background": 0, "name": 1, ...})`);
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length === 0) throw new Error(`${source}: "labels" is empty`);
  const classes: Record<string, ClassSpec> = {};
  let ignoreLabel: number | undefined;
  const msd = entries.every(([k, v]) => /^\d+$/.test(k) && typeof v === 'string');
  if (msd) {
    for (const [k, name] of entries as [string, string][]) {
      const label = Number(k);
      if (label === 0) continue;
      classes[name] = label;
    }
  } else {
    for (const [name, v] of entries) {
      if (name === 'ignore') {
        if (!isLabel(v)) throw new Error(`${source}: labels.ignore must be one integer label, got ${JSON.stringify(v)}`);
        ignoreLabel = v;
        continue;
      }
      if (isLabel(v)) {
        if (v !== 0) classes[name] = v;
      } else if (Array.isArray(v) && v.length > 0 && v.every(isLabel)) {
        if (v.every((x) => x === 0)) continue;
        if (v.includes(0)) throw new Error(`${source}: region "${name}" includes the background label 0`);
        classes[name] = v.length === 1 ? v[0] : [...v];
      } else {
        throw new Error(`${source}: labels.${name} must be an integer label or a list of labels (a region), got ${JSON.stringify(v)}`);
      }
    }
  }
  if (Object.keys(classes).length === 0) throw new Error(`${source}: "labels" lists no foreground class`);
  return ignoreLabel === undefined ? { classes } : { classes, ignoreLabel };
}

export function readDatasetClasses(file: string): DatasetClasses {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return classesFromDatasetJson(json, file);
}

/**
 * Parses a class list "1,2,3" where "+" joins labels into a region:
 * "1+2+3,2+3,3" = whole tumour, tumour core, enhancing (nnU-Net regions).
 */
export function parseClassList(text: string): ClassSpec[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new Error(`expected a list of labels like 1,2,3 (regions as 1+2), got '${text}'`);
  return items.map((item) => {
    const parts = item.split('+').map((s) => s.trim());
    const nums = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    if (nums.some((n) => !Number.isInteger(n))) throw new Error(`'${item}' is not a label or a region of labels (expected e.g. 2 or 1+2)`);
    return nums.length === 1 ? nums[0] : nums;
  });
}
