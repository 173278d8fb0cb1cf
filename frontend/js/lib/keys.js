// Deciding whether a key press is a shortcut or belongs to the focused control.

const NON_TEXT_INPUTS = new Set(["radio", "checkbox", "button", "submit", "reset", "range", "color", "file"]);

/** True while the user is typing: shortcuts must not fire. */
export function isTextEntry(target) {
  if (!(target instanceof Element)) return false;
  if (target.closest("textarea, select, [contenteditable]:not([contenteditable=false])")) return true;
  return target.tagName === "INPUT" && !NON_TEXT_INPUTS.has(target.type);
}

/** Controls that use arrow keys themselves (radio groups, sliders, selects). */
export function ownsArrowKeys(target) {
  return target instanceof Element && target.matches("input[type=radio], input[type=range], select");
}

/**
 * Controls that Enter activates natively: links and action buttons (Skip, Edit, Undo…).
 *
 * Controls that hold a state are not among them — toggle buttons (flags, ties, pairwise
 * strengths: aria-pressed), disclosures (aria-expanded), radios, checkboxes: the page
 * promises "Enter submits, everywhere", and a focused toggle that Enter flipped would change
 * the answer silently, perhaps on a response scrolled off-screen. Space toggles them.
 */
export function ownsEnter(target) {
  if (!(target instanceof Element)) return false;
  const control = target.closest("button, a[href], summary, [role=button]");
  return Boolean(control) && !control.hasAttribute("aria-pressed") && !control.hasAttribute("aria-expanded");
}

/** A rating option (radio) of a response: digits typed there set the rating. */
export function isRatingOption(target) {
  return target instanceof Element && target.matches(".rating input[type=radio]");
}
