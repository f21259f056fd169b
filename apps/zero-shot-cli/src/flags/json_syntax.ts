/**
 * Where a JSON text stops being JSON, as "what at line L, column C". `JSON.parse` on Node 20 says only
 * `Unexpected token ']', "<the whole text>" is not valid JSON` for the commonest mistake (a trailing comma
 * in a hand-edited list), which neither fits in a one-line error nor says where to look; this small strict
 * scanner follows RFC 8259 and reports the first offending character instead. It only locates errors — the
 * values themselves still come from `JSON.parse`.
 */

class JsonSyntaxError extends Error {
  constructor(
    readonly pos: number,
    what: string,
  ) {
    super(what);
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function scan(text: string): void {
  let pos = 0;
  const shown = (c: string) =>
    c === '\n'
      ? 'a line break'
      : c === '\t'
        ? 'a tab'
        : c < ' '
          ? `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`
          : `'${c}'`;
  const fail = (what: string, at = pos): never => {
    throw new JsonSyntaxError(at, what);
  };
  const unexpected = (after: string): never =>
    pos >= text.length
      ? fail(`the text ends ${after}`)
      : fail(`unexpected ${shown(text[pos])} ${after}`.trimEnd());
  const skip = () => {
    while (pos < text.length && WS.has(text[pos])) pos++;
  };
  const string = () => {
    const start = pos++;
    for (;;) {
      if (pos >= text.length) fail('a string is not closed', start);
      const c = text[pos];
      if (c === '"') return void pos++;
      if (c < ' ') fail(`${shown(c)} inside a string (write it as an escape)`);
      if (c === '\\') {
        const e = text[pos + 1];
        if (e === undefined || !ESCAPES.has(e)) fail('a bad escape sequence in a string');
        if (e === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6)))
          fail('a bad \\u escape in a string');
        pos += e === 'u' ? 6 : 2;
      } else pos++;
    }
  };
  const value = (after: string): void => {
    skip();
    const c = text[pos];
    if (c === '"') return string();
    if (c === '[') return list();
    if (c === '{') return object();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, pos)) return void (pos += word.length);
    }
    NUMBER.lastIndex = pos;
    if (NUMBER.test(text)) return void (pos = NUMBER.lastIndex);
    unexpected(after);
  };
  const list = () => {
    pos++;
    skip();
    if (text[pos] === ']') return void pos++;
    for (;;) {
      value('where a value should be');
      skip();
      if (text[pos] === ']') return void pos++;
      if (text[pos] !== ',') unexpected("where ',' or ']' should be");
      const comma = pos++;
      skip();
      if (text[pos] === ']') fail('a trailing comma, which JSON does not allow,', comma);
    }
  };
  const object = () => {
    pos++;
    skip();
    if (text[pos] === '}') return void pos++;
    for (let comma = -1; ;) {
      skip();
      if (text[pos] !== '"') {
        if (text[pos] === '}' && comma >= 0) fail('a trailing comma, which JSON does not allow,', comma);
        unexpected('where a "quoted" key should be');
      }
      string();
      skip();
      if (text[pos] !== ':') unexpected("where ':' should be");
      pos++;
      value('where a value should be');
      skip();
      if (text[pos] === '}') return void pos++;
      if (text[pos] !== ',') unexpected("where ',' or '}' should be");
      comma = pos++;
    }
  };
  value('where a value should be');
  skip();
  if (pos < text.length) unexpected('after the end of the JSON value');
}

/** 1-based line and column of an offset. */
function lineColumn(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return { line, column: pos - (before.lastIndexOf('\n') + 1) + 1 };
}

/**
 * The first syntax error of `text` ("unexpected ']' where a value should be at line 3, column 1"), or
 * undefined when it is valid JSON.
 */
export function describeJsonSyntaxError(text: string): string | undefined {
  try {
    scan(text);
    return undefined;
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    const { line, column } = lineColumn(text, err.pos);
    return `${err.message} at line ${line}, column ${column}`;
  }
}
