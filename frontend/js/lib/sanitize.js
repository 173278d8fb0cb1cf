// Untrusted HTML (model output, guidelines) → an inert DocumentFragment.
//
// The server already renders markdown through nh3; this is the second, independent layer:
// DOMPurify with an allow-list as narrow as the server's, links limited to http(s)/mailto and
// opened with rel=noopener. It returns DOM nodes, so the page never assigns innerHTML (the
// labeling page's CSP enforces Trusted Types: only DOMPurify's own policy may create HTML).
import DOMPurify from "../../vendor/dompurify/purify.es.mjs";

const CONFIG = {
  ALLOWED_TAGS: [
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
  ],
  ALLOWED_ATTR: ["href", "title", "class"],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  if (node.hasAttribute("class") && !/^language-[\w-]+$/.test(node.getAttribute("class"))) {
    node.removeAttribute("class"); // only code blocks' language-… class is kept
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
