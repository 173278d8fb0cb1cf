// The one place where untrusted text becomes page content: prompts, responses, ranking chips
// and guidelines on the labeling page, and the campaign page's markdown, all look the same.
//
// The server renders markdown (markdown-it, then nh3) and leaves TeX as escaped text in
// <span|div class="math inline|display">; here that HTML goes through the sanitizer, code
// blocks are highlighted (highlight.js's output through the sanitizer again) and TeX is
// typeset by KaTeX with `trust: false` (no \href, \url, \htmlClass… : KaTeX builds its nodes
// itself, from TeX, never from HTML). Both libraries load on first need.
import { h } from "./el.js";
import { sanitizedFragment, sanitizedHighlight } from "./sanitize.js";

const MAX_HIGHLIGHT_CHARS = 50_000; // longer code stays plain (highlighting is synchronous)
const MAX_AUTODETECT_CHARS = 5_000; // a block without a language is guessed only when short
const KATEX_OPTIONS = {
  throwOnError: true, trust: false, strict: "ignore", maxSize: 20, maxExpand: 500, output: "htmlAndMathml",
};

let katexModule = null;
let highlighterModule = null;
const katex = () => (katexModule ||= import("../../vendor/katex/katex.mjs").then((m) => m.default));
const highlighter = () => (highlighterModule ||= import("../../vendor/@highlightjs/cdn-assets/highlight.min.js")
  .then((m) => m.default));

/**
 * An element holding `html` (the server's sanitized markdown) made safe and typeset; without
 * `html`, the plain `text`. `data-typeset` turns "done" once code and math are rendered.
 */
export function richContent(html, text = "", { tag = "div", className = "" } = {}) {
  const node = h(tag, { class: `markdown ${className}`.trim() });
  if (typeof html === "string") node.append(sanitizedFragment(html, text));
  else node.textContent = text;
  enhance(node);
  return node;
}

/** Highlight code blocks and typeset math below `root` (both once). */
export async function enhance(root) {
  const blocks = [...root.querySelectorAll("pre > code:not(.hljs)")];
  const formulas = [...root.querySelectorAll(".math:not(.typeset)")];
  const jobs = [];
  if (blocks.length) jobs.push(highlighter().then((hljs) => blocks.forEach((code) => highlight(hljs, code))));
  if (formulas.length) jobs.push(katex().then((tex) => formulas.forEach((node) => typeset(tex, node))));
  const results = await Promise.allSettled(jobs);
  for (const result of results) {
    if (result.status === "rejected") console.warn("Could not render code or math:", result.reason);
  }
  root.dataset.typeset = "done";
}

function highlight(hljs, code) {
  const text = code.textContent;
  const language = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1];
  code.classList.add("hljs");
  if (text.length > MAX_HIGHLIGHT_CHARS) return;
  let result = null;
  if (language && hljs.getLanguage(language)) result = hljs.highlight(text, { language, ignoreIllegals: true });
  else if (!language && text.length <= MAX_AUTODETECT_CHARS) result = hljs.highlightAuto(text);
  if (result) code.replaceChildren(sanitizedHighlight(result.value));
}

function typeset(tex, node) {
  const source = node.textContent;
  const display = node.classList.contains("display");
  node.classList.add("typeset");
  try {
    withStyleAttributesAsCssom(() => tex.render(source, node, { ...KATEX_OPTIONS, displayMode: display }));
  } catch (error) {
    // not TeX KaTeX knows: show the source as it was written
    node.replaceChildren(h("code", { class: "math-error", title: String(error.message || error) },
      display ? `$$${source}$$` : `$${source}$`));
  }
}

/**
 * KaTeX sets a few inline styles with setAttribute("style", …) (an SVG's width, an error's
 * colour), which the CSP (style-src 'self') blocks. While it builds its nodes, those go through
 * the CSSOM instead (el.style.cssText), which the CSP allows; the values are KaTeX's own (sizes,
 * validated colours), not the text's.
 */
function withStyleAttributesAsCssom(render) {
  const original = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function setAttribute(name, value) {
    if (String(name).toLowerCase() === "style" && this.style) {
      this.style.cssText = String(value);
      return undefined;
    }
    return original.call(this, name, value);
  };
  try {
    return render();
  } finally {
    Element.prototype.setAttribute = original;
  }
}
