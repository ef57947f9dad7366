/** `npm run validators`: writes the ahead-of-time compiled validators into src/validators/. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validatorSources } from './source.js';

const dir = join(import.meta.dirname, '..', '..', 'src', 'validators');
for (const [name, text] of Object.entries(validatorSources())) {
  writeFileSync(join(dir, name), text);
  console.log(`validators: wrote src/validators/${name} (${text.length} bytes)`);
}
