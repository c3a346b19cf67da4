// Which URLs from the network may become a link or an image, in the widget and the console.

/** ``raw`` as a URL object when it is an absolute http(s) URL; null for anything else
 * (javascript:, data:, relative, not a URL): links come from customers' messages, shops'
 * pages and the model, none of which we trust. */
export function httpUrl(raw) {
  if (typeof raw !== "string" || !raw.trim()) return null;
  try {
    const url = new URL(raw.trim());
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch (e) {
    return null;
  }
}
