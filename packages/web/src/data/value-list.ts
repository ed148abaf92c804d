/**
 * A list of values typed into one text box ("a, b, c"), as the automation rule editor's condition values and tags.
 * A value that itself holds a comma or a double quote is written in double quotes, with `""` for a quote inside
 * (CSV's convention), so that "Suspicious sign-in, impossible travel" stays one value.
 */

/** Splits the text at commas outside double quotes; trims and unquotes each value; drops empty values. */
export function parseValueList(text: string): string[] {
  const values: string[] = [];
  let current = '';
  let quoted = false; // inside "..."
  let wasQuoted = false; // the current value was written in quotes: keep its inner spaces
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        current += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else current += ch;
    } else if (ch === '"' && current.trim() === '') {
      quoted = true;
      wasQuoted = true;
      current = '';
    } else if (ch === ',') {
      push();
    } else current += ch;
  }
  push();
  return values;

  function push(): void {
    const value = wasQuoted ? current : current.trim();
    if (value !== '') values.push(value);
    current = '';
    wasQuoted = false;
  }
}

/** The text that `parseValueList` reads back as `values`. */
export function formatValueList(values: readonly string[]): string {
  return values.map((v) => (/[",]/.test(v) || v !== v.trim() ? `"${v.replaceAll('"', '""')}"` : v)).join(', ');
}
