// A <select data-auto-submit> sends its form as soon as a choice is made (the console's language
// switch); without JavaScript the form's own button does it.
for (const select of document.querySelectorAll("select[data-auto-submit]")) {
  select.addEventListener("change", () => select.form.requestSubmit());
}
