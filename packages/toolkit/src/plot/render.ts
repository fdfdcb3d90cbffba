// Vega-Lite spec -> SVG (vega, headless) -> PNG (resvg), both written atomically
// as `<name>.svg` beside `<name>.png`. The libraries are loaded on the first
// render, not at import, so `import '@labelwise/toolkit'` stays fast.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Config, TopLevelSpec } from 'vega-lite';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { writeFileAtomic } from '../io/atomic.js';

export type { TopLevelSpec } from 'vega-lite';

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');
type Resvg = typeof import('@resvg/resvg-js');

interface Libraries { vega: Vega; vegaLite: VegaLite; resvg: Resvg }
let libraries: Libraries | undefined;

// createRequire: vega 5 and vega-lite 5 ship CommonJS builds (the ESM builds of
// vega-lite 6 need Node 22); one synchronous load, cached.
function load(): Libraries {
  if (!libraries) {
    const require = createRequire(import.meta.url);
    libraries = {
      vega: require('vega') as Vega,
      vegaLite: require('vega-lite') as VegaLite,
      resvg: require('@resvg/resvg-js') as Resvg,
    };
  }
  return libraries;
}

/** The family every chart asks for; DejaVu Sans is Debian's fonts-dejavu-core. */
export const FONT_FAMILY = 'DejaVu Sans';

/** Where fonts-dejavu-core puts its files (Debian/Ubuntu); other systems fall back to system fonts. */
const FONT_FILES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
];

let defaultFontOptions: NonNullable<ResvgRenderOptions['font']> | undefined;

/**
 * resvg's font set: the DejaVu files when installed (fast, identical output
 * everywhere); otherwise whatever the system has, so a machine without them
 * still gets a chart (with a different face) instead of an error.
 */
export function resvgFontOptions(candidates: readonly string[] = FONT_FILES): NonNullable<ResvgRenderOptions['font']> {
  if (candidates === FONT_FILES && defaultFontOptions) return defaultFontOptions;
  const files = candidates.filter((f) => fs.existsSync(f));
  const options = files.length > 0
    ? { fontFiles: files, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY }
    : { loadSystemFonts: true };
  if (candidates === FONT_FILES) defaultFontOptions = options;
  return options;
}

/** The look shared by all charts: real fonts, light grid, readable sizes. */
export const CHART_CONFIG: Config = {
  font: `${FONT_FAMILY}, Helvetica, Arial, sans-serif`,
  background: 'white',
  view: { stroke: '#d0d0d0' },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', titleColor: '#222', labelColor: '#333', gridColor: '#e8e8e8', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'bold', labelLimit: 220, symbolStrokeWidth: 2.5 },
  title: { fontSize: 15, fontWeight: 'bold', anchor: 'start', color: '#111', subtitleFontSize: 11, subtitleColor: '#555', offset: 10 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  line: { strokeWidth: 2 },
  point: { size: 40, filled: true },
};

export interface RenderedChart {
  svg: string;
  png: Uint8Array;
  /** PNG size in pixels (the SVG size times `scale`). */
  width: number;
  height: number;
  svgFile: string;
  /** Warnings from vega-lite and vega (an unknown field, a mark that cannot be drawn); kept out of the console. */
  warnings: string[];
}

/** `<dir>/<name>.svg` for `<dir>/<name>.png` (or any other extension). */
export function svgPathFor(pngFile: string): string {
  const p = path.parse(pngFile);
  return path.join(p.dir, `${p.name}.svg`);
}

/**
 * Compiles a Vega-Lite spec, renders it headless to SVG and rasterises it at
 * `scale` device pixels per CSS pixel; writes the SVG beside the PNG.
 */
export async function renderChart(spec: TopLevelSpec, pngFile: string, options: { scale?: number; font?: ResvgRenderOptions['font'] } = {}): Promise<RenderedChart> {
  const { vega, vegaLite, resvg } = load();
  const scale = options.scale ?? 2;
  const warnings: string[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, _level, input) => { warnings.push(Array.from(input, String).join(' ')); });
  const compiled = vegaLite.compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }
  const image = new resvg.Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: options.font ?? resvgFontOptions(), background: 'white' }).render();
  const png = image.asPng();
  const svgFile = svgPathFor(pngFile);
  writeFileAtomic(svgFile, svg);
  writeFileAtomic(pngFile, png);
  return { svg, png, width: image.width, height: image.height, svgFile, warnings };
}
