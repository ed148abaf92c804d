/**
 * `--name value` command-line options over a table of defaults: numbers stay numbers, unknown options are refused
 * with the list of known ones.
 */
export function args(defaults, argv = process.argv.slice(2)) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]?.replace(/^--/, '');
    if (!k || !(k in defaults))
      throw new Error(`unknown option ${argv[i]}; options: ${Object.keys(defaults).join(', ')}`);
    const v = argv[++i];
    out[k] = typeof defaults[k] === 'number' ? Number(v) : v;
  }
  return out;
}
