import { describe } from 'vitest';
import { engineContract } from './contract.js';
import { ENGINES } from './engines.js';

describe.each(ENGINES)('engine contract: $name', (engine) => {
  engineContract(engine);
});
