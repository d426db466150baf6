// The view registry and a hash router (#/states): new pages register here and get a nav entry.

const registry = [];

/**
 * Make a view reachable at `#/<id>`. A view is `{id, titleKey, mount(container, context)}`;
 * `mount` builds the view inside `container` and returns a function that tears it down.
 * The first registered view is the home page.
 */
export function registerView(view) {
  registry.push(view);
}

export function registeredViews() {
  return [...registry];
}

/** Shows the view the location hash names inside `outlet`, passing each the same context. */
export class Router {
  constructor(outlet, context) {
    this.outlet = outlet;
    this.context = context;
    this.current = null;
    this._unmount = null;
    this._listeners = new Set();
    this._onHashChange = () => this._show();
  }

  onChange(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  start() {
    window.addEventListener("hashchange", this._onHashChange);
    this._show();
  }

  stop() {
    window.removeEventListener("hashchange", this._onHashChange);
    this._unmount?.();
    this._unmount = null;
    this.current = null;
    this.outlet.replaceChildren();
  }

  /** The link for a view, for nav anchors. */
  static href(view) {
    return `#/${view.id}`;
  }

  _show() {
    const wanted = window.location.hash.replace(/^#\/?/, "").split("/")[0];
    const view = registry.find((item) => item.id === wanted) || registry[0];
    if (!view || view === this.current) return;
    this._unmount?.();
    this.outlet.replaceChildren();
    this.current = view;
    this._unmount = view.mount(this.outlet, this.context);
    for (const listener of this._listeners) listener(view);
  }
}
