// An image at full size over the page, from a thumbnail in the messages: closes with ×, a click
// beside the image or Escape (which then does not close the panel too).
import { gettext } from "../shared/i18n.js";
import { el, ui } from "./dom.js";

let open = null; // {box, returnFocus}

/** ``src`` is an http(s) URL (or a blob: URL of the customer's own picked file). */
export function openLightbox(src, name, downloadHref) {
  closeLightbox();
  const box = el("div", "lightbox", { role: "dialog", "aria-modal": "true", "data-testid": "lightbox" });
  box.setAttribute("aria-label", name || gettext("Image"));
  const figure = el("figure", "lightbox-figure");
  const img = el("img", "lightbox-img", { alt: name || "", "data-testid": "lightbox-image", referrerpolicy: "no-referrer" });
  img.src = src;
  figure.appendChild(img);
  const caption = el("figcaption", "lightbox-caption");
  const label = el("span", "lightbox-name");
  label.textContent = name || "";
  caption.appendChild(label);
  if (downloadHref) {
    const link = el("a", "lightbox-link", { target: "_blank", rel: "noopener noreferrer", "data-testid": "lightbox-open" });
    link.href = downloadHref;
    link.textContent = gettext("Open original");
    caption.appendChild(link);
  }
  figure.appendChild(caption);
  const close = el("button", "lightbox-close", { type: "button", "data-testid": "lightbox-close" });
  close.setAttribute("aria-label", gettext("Close image"));
  close.textContent = "\u00d7";
  box.appendChild(figure);
  box.appendChild(close);
  box.addEventListener("click", (event) => {
    if (event.target === box || event.target === figure || event.target === close) closeLightbox();
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      event.stopPropagation(); // the panel stays open
      closeLightbox();
    } else if (event.key === "Tab") {
      event.preventDefault(); // the only control: keep the focus here
      close.focus();
    }
  });
  open = { box: box, returnFocus: ui.shadow ? ui.shadow.activeElement : null };
  ui.root.appendChild(box);
  close.focus();
}

export function closeLightbox() {
  if (!open) return;
  const { box, returnFocus } = open;
  open = null;
  if (box.parentNode) box.parentNode.removeChild(box);
  if (returnFocus && returnFocus.focus) returnFocus.focus();
}
