// JSON over fetch with the session cookie and Django's CSRF token.
import { csrfToken } from "./dom.js";

const TIMEOUT_MS = 15_000;

/** The request never got an HTTP answer (offline, server down, timeout). Safe to retry. */
export class NetworkError extends Error {}

/** → {status, data}; data is the parsed JSON body (null for 204). Throws NetworkError. */
export async function request(method, url, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      signal: controller.signal,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(method === "GET" ? {} : { "X-CSRFToken": csrfToken() }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = response.status === 204 ? "" : await response.text();
    return { status: response.status, data: parse(text) };
  } catch (error) {
    throw new NetworkError(error.name === "AbortError" ? "the server did not answer in time" : error.message);
  } finally {
    clearTimeout(timer);
  }
}

function parse(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 300) };
  }
}

/** A client-made idempotency key (crypto.randomUUID needs a secure context; this does not). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
