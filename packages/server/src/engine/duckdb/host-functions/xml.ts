/**
 * parse_xml: XML text → the JSON text of Kusto's conversion (the Json.NET `SerializeXmlNode` convention):
 * `{"root": value}` where an element's value is
 * - `null` for `<e/>`, `""` for `<e></e>` (no attributes, no content);
 * - its text for an element with only text;
 * - otherwise an object: attributes as `"@name"`, text as `"#text"` (an array when there are several text runs),
 *   child elements by name, repeated names gathered into one array at the first one's position.
 * Only elements, attributes and text (CDATA counts as text) are kept: the declaration, processing instructions,
 * comments and DOCTYPE are skipped, whitespace-only text is insignificant. Malformed XML and inputs over 1 MB give
 * null (Kusto's documented limits). Pure and deterministic: no entity expansion beyond the predefined and numeric
 * references, so no external resource can be reached.
 */

const MAX_INPUT_BYTES = 1_048_576;

interface XmlElement {
  readonly name: string;
  readonly attributes: [string, string][];
  readonly children: (XmlElement | string)[];
  /** `<e/>` (Json.NET writes null) vs `<e></e>` (""). */
  selfClosing: boolean;
}

const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]*/y;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class XmlSyntaxError extends Error {}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new XmlSyntaxError('unterminated reference');
    if (ref.startsWith('#x') || ref.startsWith('#X')) return codePoint(Number.parseInt(ref.slice(2), 16), ref);
    if (ref.startsWith('#')) return codePoint(Number.parseInt(ref.slice(1), 10), ref);
    const v = PREDEFINED[ref];
    if (v === undefined) throw new XmlSyntaxError(`undefined entity ${ref}`);
    return v;
  });
}

function codePoint(n: number, ref: string): string {
  if (!Number.isInteger(n) || n <= 0 || n > 0x10ffff || !/^#(x[0-9a-f]+|[0-9]+)$/i.test(ref)) {
    throw new XmlSyntaxError(`bad character reference ${ref}`);
  }
  return String.fromCodePoint(n);
}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): XmlElement {
    this.misc();
    if (this.s.startsWith('<!DOCTYPE', this.i)) {
      this.skipDoctype();
      this.misc();
    }
    if (this.s[this.i] !== '<') throw new XmlSyntaxError('no root element');
    const root = this.element();
    this.misc();
    if (this.i !== this.s.length) throw new XmlSyntaxError('content after the root element');
    return root;
  }

  /** Whitespace, comments and processing instructions (the XML declaration is one) outside the root. */
  private misc(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
      if (this.s.startsWith('<?', this.i)) this.skipPast('?>');
      else if (this.s.startsWith('<!--', this.i)) this.skipPast('-->');
      else return;
    }
  }

  private skipPast(end: string): void {
    const j = this.s.indexOf(end, this.i);
    if (j < 0) throw new XmlSyntaxError(`missing ${end}`);
    this.i = j + end.length;
  }

  private skipDoctype(): void {
    // An internal subset may hold '>' inside brackets; entity declarations in it are not expanded.
    let depth = 0;
    for (; this.i < this.s.length; this.i++) {
      const c = this.s[this.i];
      if (c === '[') depth++;
      else if (c === ']') depth--;
      else if (c === '>' && depth === 0) {
        this.i++;
        return;
      }
    }
    throw new XmlSyntaxError('unterminated DOCTYPE');
  }

  private name(): string {
    NAME.lastIndex = this.i;
    const m = NAME.exec(this.s);
    if (!m) throw new XmlSyntaxError(`name expected at ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }

  private spaces(): boolean {
    const start = this.i;
    while (this.i < this.s.length && /\s/.test(this.s[this.i] as string)) this.i++;
    return this.i > start;
  }

  private element(): XmlElement {
    this.i++; // '<'
    const name = this.name();
    const el: XmlElement = { name, attributes: [], children: [], selfClosing: false };
    for (;;) {
      const spaced = this.spaces();
      const c = this.s[this.i];
      if (c === '/' && this.s[this.i + 1] === '>') {
        this.i += 2;
        el.selfClosing = true;
        return el;
      }
      if (c === '>') {
        this.i++;
        break;
      }
      if (!spaced) throw new XmlSyntaxError('space expected between attributes');
      const attr = this.name();
      this.spaces();
      if (this.s[this.i] !== '=') throw new XmlSyntaxError('= expected');
      this.i++;
      this.spaces();
      const q = this.s[this.i];
      if (q !== '"' && q !== "'") throw new XmlSyntaxError('quoted attribute value expected');
      const end = this.s.indexOf(q, this.i + 1);
      if (end < 0) throw new XmlSyntaxError('unterminated attribute value');
      const raw = this.s.slice(this.i + 1, end);
      if (raw.includes('<')) throw new XmlSyntaxError('< in attribute value');
      if (el.attributes.some(([n]) => n === attr)) throw new XmlSyntaxError(`duplicate attribute ${attr}`);
      // Attribute-value normalization: literal tabs and newlines read as spaces.
      el.attributes.push([attr, decodeEntities(raw.replace(/[\t\n\r]/g, ' '))]);
      this.i = end + 1;
    }
    this.content(el);
    return el;
  }

  private content(el: XmlElement): void {
    let text = '';
    const flush = () => {
      if (text !== '') el.children.push(text);
      text = '';
    };
    for (;;) {
      const lt = this.s.indexOf('<', this.i);
      if (lt < 0) throw new XmlSyntaxError(`unclosed element ${el.name}`);
      if (lt > this.i) text += decodeEntities(this.s.slice(this.i, lt));
      this.i = lt;
      if (this.s.startsWith('</', this.i)) {
        this.i += 2;
        if (this.name() !== el.name) throw new XmlSyntaxError(`mismatched end tag for ${el.name}`);
        this.spaces();
        if (this.s[this.i] !== '>') throw new XmlSyntaxError('> expected');
        this.i++;
        flush();
        return;
      }
      if (this.s.startsWith('<![CDATA[', this.i)) {
        const end = this.s.indexOf(']]>', this.i);
        if (end < 0) throw new XmlSyntaxError('unterminated CDATA');
        text += this.s.slice(this.i + 9, end);
        this.i = end + 3;
      } else if (this.s.startsWith('<!--', this.i)) {
        this.skipPast('-->');
      } else if (this.s.startsWith('<?', this.i)) {
        this.skipPast('?>');
      } else {
        flush();
        el.children.push(this.element());
      }
    }
  }
}

type Json = null | string | Json[] | { [key: string]: Json };

function toJson(el: XmlElement): Json {
  // Whitespace-only text is insignificant (XmlDocument without PreserveWhitespace).
  const texts = el.children.filter((c): c is string => typeof c === 'string' && c.trim() !== '');
  const byName = new Map<string, XmlElement[]>();
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    const same = byName.get(c.name);
    if (same) same.push(c);
    else byName.set(c.name, [c]);
  }
  if (el.attributes.length === 0 && byName.size === 0) {
    if (texts.length === 0) return el.selfClosing ? null : '';
    if (texts.length === 1) return texts[0] as string;
  }
  // No prototype: element names such as __proto__ stay plain keys.
  const obj: { [key: string]: Json } = Object.create(null);
  for (const [name, value] of el.attributes) obj[`@${name}`] = value;
  let textDone = false;
  for (const c of el.children) {
    if (typeof c === 'string') {
      if (c.trim() === '' || textDone) continue;
      textDone = true;
      obj['#text'] = texts.length === 1 ? (texts[0] as string) : texts;
      continue;
    }
    if (Object.hasOwn(obj, c.name)) continue; // gathered with the first of its name
    const same = byName.get(c.name) ?? [c];
    obj[c.name] = same.length === 1 ? toJson(c) : same.map(toJson);
  }
  return obj;
}

/** The JSON text of parse_xml(text), or null when the text is not well-formed XML or exceeds 1 MB. */
export function parseXml(text: string): string | null {
  if (text.length > MAX_INPUT_BYTES || Buffer.byteLength(text, 'utf8') > MAX_INPUT_BYTES) return null;
  try {
    const root = new Parser(text).document();
    return JSON.stringify({ [root.name]: toJson(root) });
  } catch (e) {
    if (e instanceof XmlSyntaxError) return null;
    throw e;
  }
}
