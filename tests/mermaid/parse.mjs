// Parses every ```mermaid block of the markdown on stdin with Mermaid's own parser (under
// jsdom, no browser) and checks that no label shows more than MAX_LABEL characters.
// Prints one line per failure and exits 1 when any block fails; prints the count otherwise.
import { JSDOM } from "jsdom";

const MAX_LABEL = Number(process.env.MAX_LABEL || 80);
const dom = new JSDOM("<!DOCTYPE html><body></body>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const k of ["Element", "HTMLElement", "SVGElement", "Node", "DOMParser", "navigator"]) {
  if (!(k in globalThis)) globalThis[k] = dom.window[k];
}
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;

// Fences of three or more backticks, closed by the same run.
const blocks = [];
const fence = /^(`{3,})mermaid\n([\s\S]*?)^\1$/gm;
for (let m; (m = fence.exec(input)); ) blocks.push(m[2]);

let failed = 0;
for (const [i, block] of blocks.entries()) {
  try {
    await mermaid.parse(block);
  } catch (e) {
    failed++;
    console.log(`block ${i + 1}: ${String(e.message || e).split("\n").slice(0, 4).join(" / ")}\n${block}`);
    continue;
  }
  // Labels are quoted; an entity (#quot;, #35;) shows as one character.
  for (const q of block.matchAll(/"([^"]*)"/g)) {
    const shown = [...q[1].replace(/#\w+;/g, "x")].length;
    if (shown > MAX_LABEL) {
      failed++;
      console.log(`block ${i + 1}: label of ${shown} characters: ${q[1]}`);
    }
  }
}
console.log(`${blocks.length} mermaid blocks, ${failed} failures`);
process.exit(failed ? 1 : 0);
