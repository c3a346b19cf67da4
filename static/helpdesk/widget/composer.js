// The composer: the text box grows with its text, Enter sends (Shift+Enter: a new line), and
// a failed message's Retry button sends it again.
import { bindAttachments, takeFiles } from "./attachments.js";
import { ui } from "./dom.js";
import { updateSendButton } from "./panel.js";
import { retryItem, sendText } from "./sending.js";
import { S } from "./state.js";
import { onOwnTyping, stopOwnTyping } from "./typing.js";

const INPUT_MAX_HEIGHT_PX = 132;
const IME_COMPOSITION_KEY_CODE = 229; // Enter that confirms an IME candidate (Chinese input)

export function bindComposer() {
  bindAttachments();
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitInput();
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== IME_COMPOSITION_KEY_CODE) {
      event.preventDefault();
      submitInput();
    }
  });
  ui.input.addEventListener("input", () => {
    autosize();
    updateSendButton();
    onOwnTyping();
  });
  ui.list.addEventListener("click", (event) => {
    const button = event.target && event.target.closest ? event.target.closest(".retry") : null;
    const message = button && button.closest("[data-testid=message]");
    if (message && message._hdItem) retryItem(message._hdItem);
  });
}

function autosize() {
  ui.input.style.height = "auto";
  ui.input.style.height = Math.min(ui.input.scrollHeight, INPUT_MAX_HEIGHT_PX) + "px";
}

function submitInput() {
  if (S.fatal) return;
  const text = ui.input.value.replace(/^\s+|\s+$/g, "");
  const files = takeFiles(); // attachments.js: uploaded, or uploading (the message waits)
  if (!text && !files.length) return;
  ui.input.value = "";
  autosize();
  updateSendButton();
  stopOwnTyping();
  sendText(text, files);
}
