// The page's copy of the hub: site config, the user, registries, persistent notifications and
// entity states kept live from `subscribe_entities` messages. Views read it and listen for
// changes; they never fetch.

/** Expand one entity of Home Assistant's compressed state format. */
function expandState(entityId, compressed) {
  return {
    entity_id: entityId,
    state: compressed.s,
    attributes: compressed.a || {},
    last_changed: compressed.lc,
    last_updated: compressed.lu ?? compressed.lc,
    context: typeof compressed.c === "string" ? { id: compressed.c } : compressed.c || null,
  };
}

/** Apply a compressed diff (`{"+": {...}, "-": {"a": [...]}}`) to a state, returning a new one. */
function applyDiff(state, diff) {
  const next = { ...state };
  const added = diff["+"];
  const removed = diff["-"];
  if (added) {
    if (added.s !== undefined) next.state = added.s;
    if (added.c !== undefined) {
      next.context = typeof added.c === "string" ? { id: added.c } : added.c;
    }
    if (added.lc !== undefined) {
      next.last_changed = added.lc;
      next.last_updated = added.lc;
    }
    if (added.lu !== undefined) next.last_updated = added.lu;
    if (added.a) next.attributes = { ...state.attributes, ...added.a };
  }
  if (removed?.a) {
    if (next.attributes === state.attributes) next.attributes = { ...state.attributes };
    for (const name of removed.a) delete next.attributes[name];
  }
  return next;
}

function byId(items, ...keys) {
  const map = new Map();
  for (const item of items || []) {
    const id = keys.map((key) => item[key]).find((value) => value !== undefined);
    if (id !== undefined) map.set(id, item);
  }
  return map;
}

/**
 * Holds what the views show. `subscribe(listener)` calls
 * `listener({states, structure, notifications})` on each change: `states` is the Set of entity
 * ids whose state changed, `structure` is true when entities, areas, names or the user may have
 * changed (views then rebuild rather than patch), `notifications` is true when the list of
 * persistent notifications changed.
 */
export class Store {
  constructor() {
    this.config = null;
    this.user = null;
    this.notifications = [];
    this.notificationsLoaded = false;
    this.states = new Map();
    this.statesLoaded = false;
    this.areas = new Map();
    this.devices = new Map();
    this.registry = new Map();
    this._listeners = new Set();
  }

  subscribe(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  setConfig(config) {
    this.config = config || {};
    this._emit(new Set(), true);
  }

  /** The logged-in user as `auth/current_user` gives it (null when the hub did not say). */
  setUser(user) {
    this.user = user || null;
    this._emit(new Set(), true);
  }

  /** Replace the persistent notifications (`{notification_id, title, message, created_at}`). */
  setNotifications(notifications) {
    this.notifications = Array.isArray(notifications) ? notifications : [];
    this.notificationsLoaded = true;
    this._emit(new Set(), false, true);
  }

  /** Whether the user may call services such as dismissing a notification (not a viewer). */
  canAct() {
    const role = this.user?.role;
    return Boolean(this.user?.is_admin || role === "admin" || role === "operator");
  }

  /** Replace the area, device and entity registries (lists as the WebSocket returns them). */
  setRegistries({ areas, devices, entities }) {
    this.areas = byId(areas, "area_id", "id");
    this.devices = byId(devices, "id", "device_id");
    this.registry = byId(entities, "entity_id");
    this._emit(new Set(), true);
  }

  /**
   * Apply one `subscribe_entities` event. With `replace`, the "a" part is the complete set of
   * states (the first event after a (re)subscription), so entities missing from it are gone.
   */
  applyEntityEvent(event, { replace = false } = {}) {
    const changed = new Set();
    let structure = replace || !this.statesLoaded;
    if (replace) {
      for (const entityId of this.states.keys()) {
        if (!event.a || !(entityId in event.a)) changed.add(entityId);
      }
      this.states = new Map();
    }
    for (const [entityId, compressed] of Object.entries(event.a || {})) {
      if (!this.states.has(entityId)) structure = true;
      this.states.set(entityId, expandState(entityId, compressed));
      changed.add(entityId);
    }
    for (const [entityId, diff] of Object.entries(event.c || {})) {
      const state = this.states.get(entityId);
      if (!state) continue;
      this.states.set(entityId, applyDiff(state, diff));
      changed.add(entityId);
    }
    for (const entityId of event.r || []) {
      if (this.states.delete(entityId)) {
        structure = true;
        changed.add(entityId);
      }
    }
    this.statesLoaded = true;
    this._emit(changed, structure);
  }

  /** The area an entity belongs to: its own, else its device's; null when it has none. */
  areaOf(entityId) {
    const entry = this.registry.get(entityId);
    if (!entry) return null;
    const areaId = entry.area_id ?? this.devices.get(entry.device_id)?.area_id;
    return (areaId && this.areas.get(areaId)) || null;
  }

  /** The name to show: a name the user gave, else the entity's own, else its id. */
  nameOf(entityId) {
    const entry = this.registry.get(entityId);
    const state = this.states.get(entityId);
    return (
      entry?.name || state?.attributes.friendly_name || entry?.original_name || entityId
    );
  }

  /** How many entities say their values are simulated (`simulated: true`). */
  countSimulated() {
    let count = 0;
    for (const state of this.states.values()) if (state.attributes.simulated === true) count += 1;
    return count;
  }

  _emit(states, structure, notifications = false) {
    for (const listener of this._listeners) listener({ states, structure, notifications });
  }
}
