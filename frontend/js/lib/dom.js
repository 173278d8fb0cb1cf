// DOM helpers shared by page modules.

/** Ask before submitting forms marked with data-confirm="question" — also those a page swaps in
 * later (follow.js): one listener on the root, not one per form. */
export function confirmForms(root) {
  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });
}

/** Read Django's CSRF token from the cookie for fetch() calls. */
export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}
