// Paths in the browser's history: the console's pages are /console/<view>/<id>, routed here.
import { useEffect, useState } from "preact/hooks";
import { PREFIX } from "./api";

const listeners = new Set<() => void>();

export function navigate(path: string, replace = false): void {
  const url = path.startsWith(PREFIX) ? path : PREFIX + path;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.scrollTo(0, 0);
  listeners.forEach((listener) => listener());
}

window.addEventListener("popstate", () => listeners.forEach((listener) => listener()));

export interface Location { path: string; query: URLSearchParams }

function current(): Location {
  const path = location.pathname.startsWith(PREFIX) ? location.pathname.slice(PREFIX.length) : location.pathname;
  return { path: path || "/", query: new URLSearchParams(location.search) };
}

export function useLocation(): Location {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const listener = () => setWhere(current());
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return where;
}

/** A link that moves within the console without reloading the page. */
export function href(path: string): { href: string; onClick: (event: MouseEvent) => void } {
  return {
    href: PREFIX + path,
    onClick: (event: MouseEvent) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      navigate(path);
    },
  };
}
