import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, transform } from 'esbuild';

/**
 * Builds the widget into `dist/`:
 *   loader.js         the script of the snippet (stable name, short cache): button + `window.Openlines`
 *   app.<hash>.js     the chat, an ES module the loader imports on first open (cached forever)
 *   manifest.json     names and sizes
 * Styles are minified and inlined into the scripts (they go into the widget's shadow root).
 * `npm run build` runs this; the bundle-size test calls `buildWidget` and fails above the budget.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = path.join(here, 'dist');

/** The budget for everything a visitor downloads (loader + app + styles), gzipped. */
export const TOTAL_BUDGET_GZIP = 25 * 1024;
/** The loader is on every page of the site: it must stay tiny. */
export const LOADER_BUDGET_GZIP = 3 * 1024;

export interface BuiltFile {
  name: string;
  bytes: number;
  gzipBytes: number;
  contents: Uint8Array;
}

export interface WidgetBuild {
  loader: BuiltFile;
  app: BuiltFile;
  totalGzipBytes: number;
}

const TARGET = ['es2020'];

async function css(file: string): Promise<string> {
  const source = await fs.readFile(path.join(here, 'src', file), 'utf8');
  return (await transform(source, { loader: 'css', minify: true, target: TARGET })).code.trim();
}

async function bundle(
  entry: string,
  format: 'esm' | 'iife',
  define: Record<string, string>,
): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [path.join(here, 'src', entry)],
    bundle: true,
    format,
    minify: true,
    target: TARGET,
    platform: 'browser',
    write: false,
    legalComments: 'none',
    charset: 'utf8',
    define,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.contents;
}

function described(name: string, contents: Uint8Array): BuiltFile {
  return {
    name,
    bytes: contents.byteLength,
    gzipBytes: gzipSync(contents, { level: 9 }).byteLength,
    contents,
  };
}

/** Builds both scripts in memory; writes them to `outDir` when given (atomically, file by file). */
export async function buildWidget(options: { outDir?: string } = {}): Promise<WidgetBuild> {
  const appCode = await bundle('app/index.ts', 'esm', {
    __APP_CSS__: JSON.stringify(await css('app/app.css')),
  });
  const hash = createHash('sha256').update(appCode).digest('hex').slice(0, 12);
  const app = described(`app.${hash}.js`, appCode);
  const loaderCode = await bundle('loader.ts', 'iife', {
    __APP_FILE__: JSON.stringify(app.name),
    __LOADER_CSS__: JSON.stringify(await css('loader.css')),
  });
  const loader = described('loader.js', loaderCode);
  const result = { loader, app, totalGzipBytes: loader.gzipBytes + app.gzipBytes };
  if (options.outDir) await writeBuild(options.outDir, result);
  return result;
}

async function writeAtomically(file: string, contents: Uint8Array | string): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(temporary, contents);
  await fs.rename(temporary, file);
}

async function writeBuild(outDir: string, result: WidgetBuild): Promise<void> {
  await fs.mkdir(outDir, { recursive: true });
  // The app first: a loader must never point at an app that is not there yet.
  await writeAtomically(path.join(outDir, result.app.name), result.app.contents);
  await writeAtomically(path.join(outDir, result.loader.name), result.loader.contents);
  const manifest = {
    loader: result.loader.name,
    app: result.app.name,
    gzipBytes: { loader: result.loader.gzipBytes, app: result.app.gzipBytes, total: result.totalGzipBytes },
  };
  await writeAtomically(path.join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Older apps stay for a while: pages holding a cached loader (5 minutes) still find theirs.
  const cutoff = Date.now() - 24 * 60 * 60 * 1000;
  for (const name of await fs.readdir(outDir)) {
    if (!/^app\.[0-9a-f]+\.js$/.test(name) || name === result.app.name) continue;
    const stat = await fs.stat(path.join(outDir, name)).catch(() => null);
    if (stat && stat.mtimeMs < cutoff) await fs.rm(path.join(outDir, name), { force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await buildWidget({ outDir: DIST_DIR });
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(
    `widget: ${result.loader.name} ${kib(result.loader.gzipBytes)} gzip, ${result.app.name} ${kib(result.app.gzipBytes)} gzip`,
  );
  console.log(`widget: total ${kib(result.totalGzipBytes)} gzip (budget ${kib(TOTAL_BUDGET_GZIP)})`);
  if (result.totalGzipBytes > TOTAL_BUDGET_GZIP || result.loader.gzipBytes > LOADER_BUDGET_GZIP) {
    console.error('widget: over the size budget');
    process.exit(1);
  }
}
