// Untrusted HTML (model output, guidelines) → an inert DocumentFragment.
//
// The server already renders markdown through nh3; this is the second, independent layer:
// DOMPurify with an allow-list as narrow as the server's, links limited to http(s)/mailto and
// opened with rel=noopener. It returns DOM nodes, so the page never assigns innerHTML (the
// labeling page's CSP enforces Trusted Types: only DOMPurify's own policy may create HTML).
// Highlighted code (highlight.js's HTML string) goes through it too, with spans alone allowed.
import DOMPurify from "../../vendor/dompurify/purify.es.mjs";

const CONFIG = {
  ALLOWED_TAGS: [
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
    "span", "div",
  ],
  ALLOWED_ATTR: ["href", "title", "class"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};
const HIGHLIGHT_CONFIG = { ...CONFIG, ALLOWED_TAGS: ["span"], ALLOWED_ATTR: ["class"] };

// The only classes content may carry: a code block's language, the server's TeX markers, and
// highlight.js's token classes (hljs-keyword; sub-scopes end in "_": "hljs-title function_").
const CLASS_TOKEN = /^(?:language-[\w+#.-]+|math|inline|display|hljs(?:-[\w-]+)?|[a-z]+_+)$/;

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  if (node.hasAttribute("class")) {
    const kept = node.getAttribute("class").split(/\s+/).filter((token) => CLASS_TOKEN.test(token));
    if (kept.length) node.setAttribute("class", kept.join(" "));
    else node.removeAttribute("class");
  }
});

/** Sanitized nodes for `html`; plain text of `fallbackText` if DOMPurify cannot run. */
export function sanitizedFragment(html, fallbackText = "") {
  if (!DOMPurify.isSupported) {
    const fragment = document.createDocumentFragment();
    const pre = document.createElement("pre");
    pre.textContent = fallbackText;
    fragment.append(pre);
    return fragment;
  }
  return DOMPurify.sanitize(html || "", CONFIG);
}

/** highlight.js's markup for a code block → sanitized nodes (spans with token classes only). */
export function sanitizedHighlight(html) {
  return DOMPurify.sanitize(html || "", HIGHLIGHT_CONFIG);
}
