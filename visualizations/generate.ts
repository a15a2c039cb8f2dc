/** `npm run visualize`: (re)writes the diagrams in this folder from the machines. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAll } from './render.js';

const dir = new URL('.', import.meta.url).pathname;
for (const [name, content] of await renderAll()) {
  writeFileSync(join(dir, name), content);
  console.log(`wrote visualizations/${name}`);
}
