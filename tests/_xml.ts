/**
 * A strict check that text is well-formed XML, for the SVG tests: one root element, every
 * tag closed in order, attributes quoted and not repeated, no stray `<`, and `&` only in
 * entity and character references. Returns the elements' names in document order.
 */
import assert from "node:assert/strict";

const NAME = "[A-Za-z_][\\w:.-]*";
const ATTRIBUTE = new RegExp(`\\s+(${NAME})\\s*=\\s*("[^"<]*"|'[^'<]*')`, "gy");
const ENTITY = /&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);/y;

function checkText(text: string, at: number): void {
  for (let i = text.indexOf("&"); i >= 0; i = text.indexOf("&", i + 1)) {
    ENTITY.lastIndex = i;
    assert.ok(ENTITY.test(text), `a bare "&" at ${at + i}: ${text.slice(i, i + 20)}`);
  }
}

/** Assert `xml` is well-formed; returns the names of its elements in document order. */
export function assertWellFormedXml(xml: string): string[] {
  const elements: string[] = [];
  const open: string[] = [];
  let roots = 0;
  let pos = 0;
  while (pos < xml.length) {
    const lt = xml.indexOf("<", pos);
    const text = xml.slice(pos, lt < 0 ? undefined : lt);
    checkText(text, pos);
    if (open.length === 0) assert.match(text, /^\s*$/, `text outside the root at ${pos}`);
    if (lt < 0) break;
    if (xml.startsWith("<?", lt)) {
      const end = xml.indexOf("?>", lt);
      assert.ok(end > 0 && elements.length === 0, `a bad declaration at ${lt}`);
      pos = end + 2;
      continue;
    }
    if (xml.startsWith("<!--", lt)) {
      const end = xml.indexOf("-->", lt);
      assert.ok(end > 0, `an unclosed comment at ${lt}`);
      pos = end + 3;
      continue;
    }
    if (xml.startsWith("<![CDATA[", lt)) {
      const end = xml.indexOf("]]>", lt);
      assert.ok(end > 0 && open.length > 0, `a bad CDATA section at ${lt}`);
      pos = end + 3;
      continue;
    }
    const close = new RegExp(`</(${NAME})\\s*>`, "y");
    close.lastIndex = lt;
    const c = close.exec(xml);
    if (c) {
      assert.equal(open.pop(), c[1], `</${c[1]}> at ${lt} closes another element`);
      pos = close.lastIndex;
      continue;
    }
    const start = new RegExp(`<(${NAME})`, "y");
    start.lastIndex = lt;
    const s = start.exec(xml);
    assert.ok(s, `a stray "<" at ${lt}: ${xml.slice(lt, lt + 20)}`);
    const name = s[1]!;
    let p = start.lastIndex;
    const seen = new Set<string>();
    for (;;) {
      ATTRIBUTE.lastIndex = p;
      const a = ATTRIBUTE.exec(xml);
      if (!a) break;
      assert.ok(!seen.has(a[1]!), `attribute ${a[1]} repeated on <${name}> at ${lt}`);
      seen.add(a[1]!);
      checkText(a[2]!, p);
      p = ATTRIBUTE.lastIndex;
    }
    const end = /\s*(\/?)>/y;
    end.lastIndex = p;
    const e = end.exec(xml);
    assert.ok(e, `<${name}> at ${lt} is not closed properly: ${xml.slice(p, p + 30)}`);
    if (open.length === 0) roots++;
    elements.push(name);
    if (e[1] !== "/") open.push(name);
    pos = end.lastIndex;
  }
  assert.deepEqual(open, [], "every element is closed");
  assert.equal(roots, 1, "one root element");
  return elements;
}
