// Building DOM without HTML strings: text always goes in as text nodes, so nothing a model
// wrote can become markup. Event listeners are attached by the page, never as attributes.

/**
 * h("button", {class: "primary", data: {action: "submit"}}, "Submit") → <button …>Submit</button>
 * Children may be nodes, strings (become text), numbers, arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) throw new Error(`h(): no inline handlers (${name})`);
    if (name === "data") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}
