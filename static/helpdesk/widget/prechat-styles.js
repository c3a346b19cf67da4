// The CSS of the pre-chat form (prechat.js), spread into styles.js's CSS.

export const PRECHAT_CSS = [
  // While the form is asked for, it takes the composer's place.
  ".root[data-prechat=open] .composer{display:none}",
  // Nobody there (offline.js): its form asks for what is needed instead.
  ".offline:not([hidden])~.prechat{display:none!important}",
  ".prechat{margin:4px 2px 8px;padding:16px;border:1px solid var(--hd-border);border-radius:14px;",
  "background:var(--hd-surface);display:flex;flex-direction:column;gap:12px;box-shadow:0 1px 2px rgba(0,0,0,.04)}",
  ".prechat-intro{margin:0;color:var(--hd-text);font-size:14px}",
  ".prechat-field{display:flex;flex-direction:column;gap:4px}",
  ".prechat-label{font-size:13px;font-weight:600;color:var(--hd-text)}",
  ".prechat-req{color:var(--hd-danger);font-weight:600}",
  ".prechat-input{font:inherit;font-size:16px;color:var(--hd-text);background:var(--hd-surface);width:100%;",
  "min-height:40px;padding:8px 10px;border:1px solid var(--hd-border);border-radius:10px;margin:0;",
  "-webkit-appearance:none;appearance:none}",
  "select.prechat-input{background-image:linear-gradient(45deg,transparent 50%,var(--hd-muted) 50%),",
  "linear-gradient(135deg,var(--hd-muted) 50%,transparent 50%);background-position:calc(100% - 16px) 50%,",
  "calc(100% - 11px) 50%;background-size:5px 5px;background-repeat:no-repeat;padding-right:30px}",
  ".prechat-input:focus{outline:2px solid var(--hd-accent);outline-offset:0;border-color:transparent}",
  ".prechat-input[aria-invalid=true]{border-color:var(--hd-danger)}",
  ".prechat-error{margin:0;font-size:12.5px;color:var(--hd-danger)}",
  ".prechat-start{margin-top:4px;min-height:42px;border-radius:10px;background:var(--hd-accent);",
  "color:var(--hd-on-accent);font-weight:600;font-size:14px}",
  ".prechat-start:hover{filter:brightness(1.05)}",
];
