// CSS of the emoji picker, the sound toggle, the launcher label, the proactive greeting and the
// dark scheme (spread into styles.js's CSS). The dark scheme only changes the --hd-* colours
// (and a few tones with no variable): components of other features that use the variables
// (--hd-bg, --hd-surface, --hd-subtle, --hd-text, --hd-muted, --hd-border, --hd-link) follow.

const D = ".root[data-scheme=dark] ";

export const TOUCHES_CSS = [
  // Emoji picker
  ".emoji-button{flex:none;width:38px;height:38px;border-radius:50%;display:flex;align-items:center;",
  "justify-content:center;color:var(--hd-muted);transition:color .15s ease,background-color .15s ease}",
  ".emoji-button:hover,.emoji-button.active{color:var(--hd-link,var(--hd-accent));background:var(--hd-subtle,#f3f4f6)}",
  ".emoji-pop{position:absolute;right:10px;bottom:72px;z-index:3;width:min(316px,calc(100% - 20px));padding:8px;",
  "background:var(--hd-surface,#fff);border:1px solid var(--hd-border);border-radius:14px;",
  "box-shadow:0 12px 32px rgba(17,24,39,.2),0 2px 6px rgba(17,24,39,.08);animation:hd-fade .15s ease-out}",
  ".emoji-grid{display:grid;grid-template-columns:repeat(8,1fr);gap:2px}",
  ".emoji{height:36px;border-radius:8px;font-size:22px;line-height:36px;text-align:center;",
  "font-family:'Apple Color Emoji','Segoe UI Emoji','Noto Color Emoji','Segoe UI Symbol',sans-serif;",
  "transition:background-color .1s ease,transform .1s ease}",
  ".emoji:hover,.emoji:focus-visible{background:var(--hd-subtle,#f3f4f6);transform:scale(1.12)}",
  ".emoji:focus-visible{outline:2px solid var(--hd-accent);outline-offset:-2px}",

  // The header's sound toggle (beside the close button)
  ".sound-toggle{flex:none;width:36px;height:36px;margin-right:-8px;border-radius:10px;display:flex;",
  "align-items:center;justify-content:center;color:var(--hd-on-accent);opacity:.9}",
  ".sound-toggle:hover{background:rgba(255,255,255,.16);opacity:1}",
  ".sound-toggle[data-muted=true]{opacity:.7}",

  // Launcher label: a pill left of the closed launcher
  ".launcher-label{position:fixed;right:calc(90px + env(safe-area-inset-right,0px));",
  "bottom:calc(32px + env(safe-area-inset-bottom,0px));max-width:min(260px,calc(100vw - 110px));height:36px;",
  "padding:0 16px;border-radius:18px;background:var(--hd-surface,#fff);color:var(--hd-text);",
  "border:1px solid var(--hd-border);font-size:14px;font-weight:600;line-height:34px;white-space:nowrap;",
  "overflow:hidden;text-overflow:ellipsis;box-shadow:0 4px 14px rgba(17,24,39,.14);animation:hd-fade .2s ease-out}",
  ".launcher-label:hover{box-shadow:0 6px 18px rgba(17,24,39,.2)}",
  ".root.open .launcher-label{display:none}",

  // Proactive greeting: a bubble above the closed launcher
  ".proactive{position:fixed;right:calc(20px + env(safe-area-inset-right,0px));",
  "bottom:calc(92px + env(safe-area-inset-bottom,0px));width:max-content;max-width:min(300px,calc(100vw - 40px));",
  "background:var(--hd-surface,#fff);color:var(--hd-text);border:1px solid var(--hd-border);",
  "border-radius:16px 16px 6px 16px;box-shadow:0 10px 30px rgba(17,24,39,.18),0 2px 6px rgba(17,24,39,.08);",
  "animation:hd-in .25s ease-out;transform-origin:bottom right}",
  ".proactive-text{display:block;width:100%;padding:12px 38px 12px 14px;text-align:left;font-size:14px;",
  "line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere;border-radius:inherit}",
  ".proactive-close{position:absolute;top:6px;right:6px;width:26px;height:26px;border-radius:50%;display:flex;",
  "align-items:center;justify-content:center;color:var(--hd-muted)}",
  ".proactive-close:hover{background:var(--hd-subtle,#f3f4f6);color:var(--hd-text)}",
  ".root.open .proactive{display:none}",
  "@media (max-width:480px){.launcher-label{font-size:13px}.proactive{max-width:calc(100vw - 32px)}}",

  // Dark scheme (theme.js sets data-scheme on the root)
  D + "{color-scheme:dark;--hd-bg:#0d1119;--hd-surface:#171c27;--hd-subtle:#222938;--hd-text:#e6e8ec;",
  "--hd-muted:#9ba3b1;--hd-border:#2c3444;--hd-link:var(--hd-link-dark,#a5b4fc)}",
  D + ".panel{box-shadow:0 16px 48px rgba(0,0,0,.6),0 0 0 1px var(--hd-border)}",
  D + ".bubble{box-shadow:none}",
  D + ".bubble .link," + D + ".sources a.source," + D + ".retry," + D + ".card-cta{color:var(--hd-link)}",
  D + ".msg.from-contact .bubble .link{color:inherit}",
  D + ".msg.state-failed .bubble{border-color:#7f1d1d}",
  D + ".notice{background:var(--hd-subtle);color:var(--hd-text)}",
  D + ".notice[data-tone=warn]{background:#3a2c0e;color:#fcd34d}",
  D + ".notice[data-tone=error]{background:#3d171b;color:#fca5a5}",
  D + ".card-img{background:var(--hd-subtle)}",
  D + ".card-stock{background:var(--hd-subtle);color:var(--hd-text)}",
  D + ".card-stock.in{background:#123522;color:#86efac}",
  D + ".card-stock.out{background:#3d171b;color:#fca5a5}",
  D + ".card-stock.low{background:#3a2c0e;color:#fcd34d}",
  D + ".divider{color:var(--hd-muted)}",
  D + ".dots i{background:#6b7380}",
  D + ".input::placeholder{color:#6b7380}",
  D + ".footer{color:#6b7380}",
  D + "a.card:hover{box-shadow:0 6px 16px rgba(0,0,0,.5)}",
  D + "button:focus-visible," + D + "textarea:focus-visible," + D + "a:focus-visible{outline-color:var(--hd-link)}",
  D + ".launcher-label," + D + ".proactive{box-shadow:0 8px 24px rgba(0,0,0,.45)}",
  D + ".emoji-pop{box-shadow:0 12px 32px rgba(0,0,0,.55)}",
];
