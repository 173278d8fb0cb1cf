// A ranking with explicit ties, as the labeler builds it: groups best first, plus the
// completions not ranked yet. Pure data, no DOM — the page renders it.

export class Ranking {
  /** @param {number[]} ids completion ids in display order */
  constructor(ids) {
    this.ids = [...ids];
    this.groups = []; // [[id, …], …] best first; a group of several is a tie
    this.pool = [...ids]; // not ranked yet, in display order
  }

  isComplete() {
    return this.pool.length === 0 && this.groups.length > 0;
  }

  isRanked(id) {
    return !this.pool.includes(id);
  }

  /** {rank: 1-based group number, tied: group has others} or null when not ranked. */
  rankOf(id) {
    const index = this.groups.findIndex((group) => group.includes(id));
    return index < 0 ? null : { rank: index + 1, tied: this.groups[index].length > 1 };
  }

  /** Put an unranked completion at the next rank (below everything ranked so far). */
  place(id) {
    if (this.isRanked(id)) return false;
    this.pool = this.pool.filter((other) => other !== id);
    this.groups.push([id]);
    return true;
  }

  /** Back to "not ranked". */
  unrank(id) {
    if (!this.isRanked(id)) return false;
    this.#detach(id);
    this.pool = this.ids.filter((other) => other === id || this.pool.includes(other));
    return true;
  }

  /**
   * Move one rank up (delta -1) or down (+1). A tied completion first leaves its tie and
   * lands just above (or below) its old group; a lone one jumps over the whole next group.
   */
  move(id, delta) {
    const index = this.#groupIndex(id);
    if (index < 0) return false;
    if (this.groups[index].length > 1) {
      this.#detach(id);
      this.groups.splice(delta < 0 ? index : index + 1, 0, [id]);
      return true;
    }
    const target = index + delta;
    if (target < 0 || target >= this.groups.length) return false;
    [this.groups[index], this.groups[target]] = [this.groups[target], this.groups[index]];
    return true;
  }

  /**
   * Tie with the group above. If already tied, leave the tie: the first of a tie stays just
   * above the others, any other lands just below them.
   */
  toggleTie(id) {
    const index = this.#groupIndex(id);
    if (index < 0) return false;
    const group = this.groups[index];
    if (group.length > 1) {
      const first = this.#inDisplayOrder(group)[0] === id;
      this.#detach(id);
      this.groups.splice(first ? index : index + 1, 0, [id]);
      return true;
    }
    if (index === 0) return false;
    this.groups.splice(index, 1);
    this.groups[index - 1].push(id);
    return true;
  }

  /**
   * Take a new flat order after a drag. Neighbours that were tied stay tied; the dragged
   * completion becomes a rank of its own where it was dropped.
   */
  setOrder(rankedIds, poolIds, movedId) {
    const before = new Map();
    this.groups.forEach((group, index) => group.forEach((id) => before.set(id, index)));
    const groups = [];
    let previous = null;
    for (const id of rankedIds) {
      const tiedWithPrevious = previous !== null && id !== movedId && previous !== movedId
        && before.has(id) && before.get(id) === before.get(previous);
      if (tiedWithPrevious) groups[groups.length - 1].push(id);
      else groups.push([id]);
      previous = id;
    }
    this.groups = groups;
    this.pool = this.ids.filter((id) => poolIds.includes(id));
  }

  /** Take a saved ranking (groups best first; the ids not in it stay unranked). False, and no
   *  change, when it does not fit this task's ids. */
  restore(groups) {
    if (!Array.isArray(groups) || !groups.every((group) => Array.isArray(group) && group.length)) return false;
    const flat = groups.flat();
    if (new Set(flat).size !== flat.length || !flat.every((id) => this.ids.includes(id))) return false;
    this.groups = groups.map((group) => [...group]);
    this.pool = this.ids.filter((id) => !flat.includes(id));
    return true;
  }

  /** The submitted shape: groups best first, ids inside a tie in display order. */
  toJSON() {
    return this.groups.map((group) => this.#inDisplayOrder(group));
  }

  #inDisplayOrder(group) {
    return [...group].sort((a, b) => this.ids.indexOf(a) - this.ids.indexOf(b));
  }

  #groupIndex(id) {
    return this.groups.findIndex((group) => group.includes(id));
  }

  #detach(id) {
    const index = this.#groupIndex(id);
    const rest = this.groups[index].filter((other) => other !== id);
    if (rest.length) this.groups[index] = rest;
    else this.groups.splice(index, 1);
  }
}
