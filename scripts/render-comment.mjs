#!/usr/bin/env node
// Renders a `meshform diff --format markdown` comment the way a GitHub pull request shows it
// (GFM with alerts, GitHub's markdown style, Mermaid 11 drawing the ```mermaid blocks, every
// <details> open) and screenshots the top of it with headless Chromium.
//
//   node scripts/render-comment.mjs COMMENT.md OUT.png [HEIGHT]
//
// Needs `npm ci` in tests/mermaid (marked, marked-alert, github-markdown-css, mermaid) and
// Debian's `chromium` (or CHROMIUM=/path/to/chrome). HEIGHT is the height of the crop in CSS
// pixels (1600 by default). Works offline: every script and style is inlined in the page.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "../tests/mermaid/package.json"));
const { marked } = await import(require.resolve("marked"));
const { default: markedAlert } = await import(require.resolve("marked-alert"));

const [input, output, height = "1600"] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/render-comment.mjs COMMENT.md OUT.png [HEIGHT]");
  process.exit(2);
}

const html = (s) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

// GitHub colours the lines of a ```diff block; Mermaid draws a ```mermaid block.
marked.use(markedAlert(), {
  gfm: true,
  renderer: {
    code({ text, lang }) {
      if (lang === "mermaid") return `<pre class="mermaid">${html(text)}</pre>\n`;
      if (lang === "diff") {
        const lines = text.split("\n").map((l) => {
          const c = l.startsWith("@@") ? "hunk" : l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "";
          return c ? `<span class="${c}">${html(l)}</span>` : html(l);
        });
        return `<pre class="diff"><code>${lines.join("\n")}</code></pre>\n`;
      }
      return `<pre><code>${html(text)}</code></pre>\n`;
    },
  },
});

const markdown = readFileSync(input, "utf8");
const body = marked.parse(markdown).replace(/<details>/g, "<details open>");
const css = readFileSync(require.resolve("github-markdown-css/github-markdown-light.css"), "utf8");
const mermaidJs = readFileSync(require.resolve("mermaid/dist/mermaid.min.js"), "utf8");

const page = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>rendering</title>
<style>${css}
body { margin: 0; background: #fff; font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
.comment { width: 880px; margin: 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
.comment-head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
  font-size: 14px; color: #59636e; border-radius: 6px 6px 0 0; }
.comment-head b { color: #1f2328; }
.markdown-body { padding: 16px; font-size: 14px; }
.markdown-body pre.mermaid { background: #fff; text-align: center; }
.markdown-body pre.diff .add { color: #116329; background: #dafbe1; display: inline-block; width: 100%; }
.markdown-body pre.diff .del { color: #82071e; background: #ffebe9; display: inline-block; width: 100%; }
.markdown-body pre.diff .hunk { color: #59636e; background: #ddf4ff; display: inline-block; width: 100%; }
</style>
<script>${mermaidJs}</script>
</head><body>
<div class="comment"><div class="comment-head"><b>github-actions</b> bot commented</div>
<article class="markdown-body">${body}</article></div>
<script>
mermaid.initialize({ startOnLoad: false, theme: "default", securityLevel: "strict" });
mermaid.run({ querySelector: "pre.mermaid" }).then(
  () => { document.title = "rendered"; },
  (e) => { document.title = "mermaid failed"; document.body.prepend(String(e)); }
);
</script>
</body></html>
`;

const dir = mkdtempSync(join(tmpdir(), "meshform-comment-"));
try {
  const pageFile = join(dir, "comment.html");
  writeFileSync(pageFile, page);
  const chromium = process.env.CHROMIUM || "chromium";
  const run = spawnSync(
    chromium,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      "--force-device-scale-factor=1",
      `--user-data-dir=${join(dir, "profile")}`,
      `--window-size=912,${Number(height)}`,
      "--virtual-time-budget=20000",
      `--screenshot=${resolve(output)}`,
      `file://${pageFile}`,
    ],
    { encoding: "utf8", timeout: 120000 }
  );
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`wrote ${output}`);
