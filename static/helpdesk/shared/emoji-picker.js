// An emoji picker for a text box, shared by the widget's composer and the console's: a button
// opens a grid of common emoji (emoji-list.js). Arrow keys, Home/End move in the grid,
// Enter/Space insert at the caret (replacing a selection), Escape or Tab close it and give the
// focus back to the text box; a click elsewhere closes it too. The caller makes the button
// and the (hidden) popover element and places them; this fills the grid and does the rest.
import { EMOJI, EMOJI_COLUMNS } from "./emoji-list.js";

/** ``input``: the textarea; ``button``: what opens it; ``pop``: the popover, hidden;
 *  ``onOpen``: called before it shows (to place it). Returns {close(refocus)}. */
export function createEmojiPicker(input, button, pop, onOpen) {
  const cells = [];
  let index = 0;
  let selection = null; // where the caret was when the button took the focus

  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  pop.setAttribute("role", "dialog");
  const grid = document.createElement("div");
  grid.className = "emoji-grid";
  grid.setAttribute("role", "group");
  EMOJI.forEach((emoji, i) => {
    const cell = document.createElement("button");
    cell.type = "button";
    cell.className = "emoji";
    cell.tabIndex = -1;
    cell.setAttribute("data-emoji", emoji);
    cell.textContent = emoji;
    cell.addEventListener("click", () => insert(emoji));
    cell.addEventListener("focus", () => (index = i));
    cells.push(cell);
    grid.appendChild(cell);
  });
  pop.appendChild(grid);

  function remember() {
    if (input.selectionStart != null) selection = [input.selectionStart, input.selectionEnd];
  }

  function open() {
    if (input.disabled) return;
    if (selection == null) remember();
    if (onOpen) onOpen();
    pop.hidden = false;
    button.setAttribute("aria-expanded", "true");
    button.classList.add("active");
    focusCell(index);
  }

  function close(refocus) {
    if (pop.hidden) return;
    pop.hidden = true;
    button.setAttribute("aria-expanded", "false");
    button.classList.remove("active");
    if (refocus) {
      input.focus();
      if (selection) input.setSelectionRange(selection[0], selection[1]);
    }
    selection = null;
  }

  function focusCell(i) {
    const n = cells.length;
    index = ((i % n) + n) % n;
    cells.forEach((cell, k) => (cell.tabIndex = k === index ? 0 : -1));
    cells[index].focus();
  }

  function insert(emoji) {
    if (input.disabled) return;
    const at = selection || [input.value.length, input.value.length];
    input.value = input.value.slice(0, at[0]) + emoji + input.value.slice(at[1]);
    const caret = at[0] + emoji.length;
    selection = [caret, caret];
    close(true);
    // The composers grow with their text and enable Send on "input".
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }

  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: EMOJI_COLUMNS, ArrowUp: -EMOJI_COLUMNS };
  pop.addEventListener("keydown", (event) => {
    if (event.key === "Escape" || event.key === "Esc" || event.key === "Tab") {
      event.preventDefault();
      event.stopPropagation(); // Escape also closes the widget's panel: only the grid should go
      close(true);
    } else if (Object.prototype.hasOwnProperty.call(moves, event.key)) {
      event.preventDefault();
      focusCell(index + moves[event.key]);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      focusCell(event.key === "Home" ? 0 : cells.length - 1);
    }
  });
  button.addEventListener("pointerdown", remember); // before the button takes the focus
  button.addEventListener("click", () => (pop.hidden ? open() : close(true)));
  document.addEventListener(
    "pointerdown",
    (event) => {
      if (pop.hidden) return;
      const path = event.composedPath ? event.composedPath() : [];
      if (path.indexOf(pop) < 0 && path.indexOf(button) < 0) close(false);
    },
    true,
  );
  return { close: close };
}
