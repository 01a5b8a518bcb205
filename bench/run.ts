/**
 * `npm run bench` runs every `bench/*.bench.ts`; `npm run bench -- NAME` runs one. Each module
 * exports `run(): Promise<void>` and reports through `report()`.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).map((f) => f.slice(0, -'.bench.ts'.length)).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${all.join(', ') || '(none yet)'}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : all) {
  const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { run: () => Promise<void> };
  console.log(`== ${name}`);
  await mod.run();
}
