// Regions of a page that follow their objects: <div data-follow="?part=NAME"
// data-follow-every="SECONDS" data-follow-while="SELECTOR">. The region's contents are
// fetched again from the server (the same template the page included, behind the same
// permission check) and swapped in when they changed:
//   - every SECONDS (5 by default) while the page is visible;
//   - only while the region holds something matching SELECTOR (e.g. "[data-pending]": a
//     snapshot still building), when one is given — then it stops by itself;
//   - at once on a "follow:refresh" event (the Run page sends one when its run ends).
// A region whose form the user has started to fill in is left alone (their input is kept),
// and so is one that holds the focus. The HTML comes from our own server, escaped by Django's
// templates like the page itself; nothing in it runs (no scripts: CSP), and forms in it are
// handled by delegated listeners (lib/dom.js), so swapping them in loses nothing.

const MIN_SECONDS = 1;

class Follower {
  constructor(region) {
    this.region = region;
    this.url = new URL(region.dataset.follow, location.href);
    this.every = Math.max(MIN_SECONDS, Number(region.dataset.followEvery) || 5) * 1000;
    this.while = region.dataset.followWhile || "";
    this.edited = false;
    this.timer = null;
    this.busy = false;
    this.last = null;
    region.addEventListener("input", () => { this.edited = true; });
    region.addEventListener("follow:refresh", () => this.refresh(true));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.wanted()) this.refresh(false);
    });
  }

  wanted() { return !this.while || this.region.querySelector(this.while) !== null; }

  schedule() {
    clearTimeout(this.timer);
    this.timer = this.wanted() ? setTimeout(() => this.refresh(false), this.every) : null;
  }

  holdsInput() {
    if (this.edited) return true;
    const active = document.activeElement;
    return active !== null && this.region.contains(active) && active.matches("input, textarea, select");
  }

  async refresh(asked) {
    if (this.busy) return;
    if ((document.hidden && !asked) || this.holdsInput()) { this.schedule(); return; }
    this.busy = true;
    try {
      const response = await fetch(this.url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } });
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        this.region.dataset.followStopped = String(response.status); // signed out or no longer allowed
        return;
      }
      if (response.ok) this.swap(await response.text());
    } catch (error) {
      // offline for a moment: try again at the next turn
    } finally {
      this.busy = false;
    }
    if (!this.region.dataset.followStopped) this.schedule();
  }

  swap(html) {
    if (html === this.last || this.holdsInput()) return;
    this.last = html;
    const parsed = new DOMParser().parseFromString(html, "text/html");
    this.region.replaceChildren(...parsed.body.childNodes);
    this.region.dispatchEvent(new CustomEvent("follow:updated", { bubbles: true }));
  }
}

for (const region of document.querySelectorAll("[data-follow]")) new Follower(region).schedule();
