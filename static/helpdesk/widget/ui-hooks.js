// Features that redraw with the panel: panel.js's updateUI() calls each function here after its
// own work (offline.js). A module registers with afterUpdate.push(fn); panel.js imports no
// feature, so features may import panel.js without a cycle.
export const afterUpdate = [];

/** panel.js: run every registered redraw; one that throws does not stop the others. */
export function runAfterUpdate() {
  for (const fn of afterUpdate) {
    try {
      fn();
    } catch (e) {
      if (window.console) console.warn("[helpdesk] redraw:", e);
    }
  }
}
