// The widget's CSS, all inside its shadow root, and the accent colour's readable text colour.
import { TOUCHES_CSS } from "./touches-css.js";

import { ATTACHMENT_CSS } from "./attachment-styles.js";
import { OFFLINE_CSS } from "./offline-styles.js";
import { PRECHAT_CSS } from "./prechat-styles.js";
import { RATING_CSS } from "./rating-styles.js";

export const CSS = [
  // The host element: immune to the page's CSS. Inside a shadow tree, !important beats the
  // page's !important on the host, and nothing from the page reaches elements inside.
  ":host{all:initial!important;display:block!important;position:fixed!important;right:0!important;",
  "bottom:0!important;top:auto!important;left:auto!important;width:0!important;height:0!important;",
  "margin:0!important;padding:0!important;border:0!important;z-index:2147483000!important;",
  "transform:none!important;filter:none!important;opacity:1!important;visibility:visible!important;",
  "overflow:visible!important;contain:none!important;pointer-events:auto!important}",
  "*,*::before,*::after{box-sizing:border-box}",
  "[hidden]{display:none!important}",
  ".root{all:initial;--hd-accent:#4f46e5;--hd-on-accent:#fff;--hd-bg:#f6f7f9;--hd-text:#111827;",
  "--hd-muted:#6b7280;--hd-border:#e5e7eb;--hd-danger:#dc2626;--hd-surface:#fff;--hd-subtle:#f3f4f6;",
  // Latin fonts, then Simplified Chinese ones (macOS, older macOS, Windows, Linux).
  "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,'Noto Sans',",
  "'PingFang SC','Hiragino Sans GB','Microsoft YaHei','Noto Sans CJK SC',sans-serif;",
  "font-size:14px;line-height:1.45;color:var(--hd-text);font-weight:400;letter-spacing:normal;",
  "text-align:left;direction:ltr;-webkit-font-smoothing:antialiased;-moz-osx-font-smoothing:grayscale;",
  "-webkit-text-size-adjust:100%;text-size-adjust:100%}",
  "button,textarea{font:inherit;color:inherit;margin:0;letter-spacing:inherit;text-transform:none}",
  "button{cursor:pointer;background:none;border:0;padding:0;-webkit-appearance:none;appearance:none}",
  "button:focus-visible,textarea:focus-visible,a:focus-visible{outline:2px solid var(--hd-accent);outline-offset:2px}",
  "svg{display:block;fill:currentColor}",

  // Launcher
  ".launcher{position:fixed;right:calc(20px + env(safe-area-inset-right,0px));",
  "bottom:calc(20px + env(safe-area-inset-bottom,0px));width:60px;height:60px;border-radius:50%;",
  "background:var(--hd-accent);color:var(--hd-on-accent);display:flex;align-items:center;",
  "justify-content:center;box-shadow:0 6px 20px rgba(17,24,39,.22),0 2px 6px rgba(17,24,39,.12);",
  "transition:transform .18s ease,box-shadow .18s ease}",
  ".launcher:hover{transform:scale(1.06);box-shadow:0 10px 28px rgba(17,24,39,.26),0 3px 8px rgba(17,24,39,.14)}",
  ".launcher:active{transform:scale(.96)}",
  ".launcher .ic{position:absolute;display:flex;transition:transform .2s ease,opacity .2s ease}",
  ".launcher .ic-close{opacity:0;transform:rotate(-90deg) scale(.6)}",
  ".root.open .launcher .ic-open{opacity:0;transform:rotate(90deg) scale(.6)}",
  ".root.open .launcher .ic-close{opacity:1;transform:none}",
  ".badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
  "background:var(--hd-danger);color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;",
  "border:2px solid #fff;box-shadow:0 1px 3px rgba(0,0,0,.2)}",

  // Panel
  ".panel{position:fixed;right:calc(20px + env(safe-area-inset-right,0px));",
  "bottom:calc(92px + env(safe-area-inset-bottom,0px));width:380px;height:min(680px,calc(100vh - 116px));",
  "min-height:320px;display:flex;flex-direction:column;background:var(--hd-surface);border-radius:18px;overflow:hidden;",
  "box-shadow:0 16px 48px rgba(17,24,39,.22),0 2px 8px rgba(17,24,39,.08);",
  "transform-origin:bottom right;animation:hd-in .2s ease-out}",
  "@keyframes hd-in{from{opacity:0;transform:translateY(12px) scale(.98)}to{opacity:1;transform:none}}",
  "@keyframes hd-fade{from{opacity:0;transform:translateY(4px)}to{opacity:1;transform:none}}",

  ".header{flex:none;display:flex;align-items:center;gap:12px;padding:16px 12px 16px 18px;",
  "background-color:var(--hd-accent);background-image:linear-gradient(135deg,rgba(255,255,255,.14),rgba(0,0,0,.14));",
  "color:var(--hd-on-accent)}",
  ".avatar{flex:none;width:40px;height:40px;border-radius:50%;display:flex;align-items:center;justify-content:center;",
  "background:rgba(255,255,255,.2);color:var(--hd-on-accent)}",
  ".titles{flex:1;min-width:0}",
  ".title{margin:0;font-size:16px;font-weight:650;line-height:1.25;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
  ".status{margin:2px 0 0;font-size:13px;line-height:1.3;opacity:.92;display:flex;align-items:center;gap:6px;",
  "white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
  ".dot{flex:none;width:8px;height:8px;border-radius:50%;background:#9ca3af;box-shadow:0 0 0 2px rgba(255,255,255,.35)}",
  ".status[data-connection=online] .dot{background:#34d399}",
  ".status[data-connection=connecting] .dot,.status[data-connection=reconnecting] .dot{background:#fbbf24}",
  ".status[data-connection=unavailable] .dot{background:#f87171}",
  ".close{flex:none;width:36px;height:36px;border-radius:10px;display:flex;align-items:center;justify-content:center;",
  "color:var(--hd-on-accent);opacity:.9}",
  ".close:hover{background:rgba(255,255,255,.16);opacity:1}",

  ".body{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;background:var(--hd-bg);",
  "padding:16px 14px 8px;-webkit-overflow-scrolling:touch}",
  ".list{display:flex;flex-direction:column}",
  ".group{display:flex;flex-direction:column}",

  // Messages
  ".msg{display:flex;flex-direction:column;align-items:flex-start;max-width:100%;margin-top:10px;animation:hd-fade .18s ease-out}",
  ".msg.cont{margin-top:3px}",
  ".msg.from-contact{align-items:flex-end}",
  ".name{font-size:12px;color:var(--hd-muted);margin:0 0 3px 4px;font-weight:500}",
  ".msg.cont .name{display:none}",
  ".bubble{max-width:82%;padding:9px 13px;border-radius:18px;background:var(--hd-surface);color:var(--hd-text);",
  "border:1px solid var(--hd-border);white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;",
  "box-shadow:0 1px 1px rgba(17,24,39,.04)}",
  ".msg:not(.from-contact) .bubble{border-top-left-radius:6px}",
  ".msg.from-contact .bubble{background:var(--hd-accent);color:var(--hd-on-accent);border-color:transparent;",
  "border-top-right-radius:6px}",
  ".msg.cont:not(.from-contact) .bubble{border-top-left-radius:18px}",
  ".msg.from-contact.cont .bubble{border-top-right-radius:18px}",
  ".bubble .link{color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",
  ".msg.from-contact .bubble .link{color:inherit}",
  ".msg.state-pending .bubble,.msg.state-sent .bubble{opacity:.75}",
  ".msg.state-failed .bubble{opacity:1;background:var(--hd-surface);color:var(--hd-text);border:1px solid #fca5a5}",
  ".msg.state-streaming .text::after{content:'';display:inline-block;width:7px;height:14px;margin-left:2px;",
  "vertical-align:-2px;border-radius:1px;background:currentColor;opacity:.5;animation:hd-blink 1s steps(2) infinite}",
  "@keyframes hd-blink{50%{opacity:0}}",
  ".msg.state-streaming .text:empty::after{margin-left:0}",
  ".meta{font-size:12px;color:var(--hd-muted);margin:3px 6px 0;display:flex;gap:8px;align-items:center;flex-wrap:wrap;justify-content:flex-end}",
  ".msg.state-failed .meta{color:var(--hd-danger)}",
  ".retry{font-size:12px;font-weight:600;color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",

  // System events
  ".event{align-self:center;text-align:center;font-size:12px;color:var(--hd-muted);margin:14px 24px 4px;",
  "max-width:90%;white-space:pre-wrap;overflow-wrap:anywhere;animation:hd-fade .18s ease-out}",
  ".divider{display:flex;align-items:center;gap:10px;font-size:11px;text-transform:uppercase;letter-spacing:.06em;",
  "color:#9ca3af;margin:18px 0 6px}",
  ".divider::before,.divider::after{content:'';flex:1;height:1px;background:var(--hd-border)}",
  ".greeting{margin-top:0}",

  // Citations: markers in the text, the sources under the bubble
  ".cite{font-size:.72em;line-height:0;vertical-align:super;opacity:.75;margin-left:1px}",
  ".sources{display:flex;flex-wrap:wrap;gap:2px 8px;max-width:82%;margin:4px 6px 0;font-size:12px;",
  "color:var(--hd-muted);overflow-wrap:anywhere}",
  ".sources .source{color:inherit}",
  ".sources a.source{color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",

  // Product cards
  ".cards{display:flex;flex-direction:column;gap:8px;margin-top:6px;max-width:82%;width:260px}",
  ".card{display:flex;flex-direction:column;background:var(--hd-surface);border:1px solid var(--hd-border);border-radius:14px;",
  "overflow:hidden;color:var(--hd-text);text-decoration:none;box-shadow:0 1px 2px rgba(17,24,39,.05);",
  "transition:box-shadow .15s ease,transform .15s ease}",
  "a.card:hover{box-shadow:0 6px 16px rgba(17,24,39,.12);transform:translateY(-1px)}",
  ".card-img{display:block;width:100%;height:150px;object-fit:cover;background:#f3f4f6}",
  ".card-body{padding:10px 12px 12px;display:flex;flex-direction:column;gap:3px}",
  ".card-title{font-weight:600;font-size:14px;line-height:1.3;overflow:hidden;display:-webkit-box;",
  "-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow-wrap:anywhere}",
  ".card-row{display:flex;align-items:center;justify-content:space-between;gap:8px;margin-top:2px}",
  ".card-price{font-weight:700;font-size:15px}",
  ".card-stock{font-size:12px;font-weight:600;padding:2px 8px;border-radius:999px;background:#f3f4f6;color:#374151;white-space:nowrap}",
  ".card-stock.in{background:#dcfce7;color:#166534}",
  ".card-stock.out{background:#fee2e2;color:#991b1b}",
  ".card-stock.low{background:#fef3c7;color:#92400e}",
  ".card-cta{margin-top:6px;font-size:13px;font-weight:600;color:var(--hd-accent)}",

  // Typing indicator
  ".typing{display:flex;align-items:center;gap:8px;margin:10px 0 2px;animation:hd-fade .18s ease-out}",
  ".dots{display:inline-flex;gap:4px;padding:12px 14px;background:var(--hd-surface);border:1px solid var(--hd-border);",
  "border-radius:18px;border-top-left-radius:6px}",
  ".dots i{width:7px;height:7px;border-radius:50%;background:#9ca3af;animation:hd-bounce 1.2s infinite ease-in-out}",
  ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}",
  "@keyframes hd-bounce{0%,60%,100%{transform:translateY(0);opacity:.5}30%{transform:translateY(-4px);opacity:1}}",
  ".typing-label{font-size:12px;color:var(--hd-muted)}",

  // Notice, composer, footer
  ".notice{flex:none;padding:9px 16px;font-size:13px;line-height:1.35;text-align:center;background:#f3f4f6;",
  "color:#374151;border-top:1px solid var(--hd-border)}",
  ".notice[data-tone=warn]{background:#fffbeb;color:#92400e}",
  ".notice[data-tone=error]{background:#fef2f2;color:#991b1b}",
  ".composer{flex:none;display:flex;align-items:flex-end;gap:8px;padding:10px 10px 10px 14px;background:var(--hd-surface);",
  "border-top:1px solid var(--hd-border);margin:0}",
  ".input{flex:1;min-width:0;resize:none;border:0;outline:none;background:transparent;color:var(--hd-text);",
  "font-size:15px;line-height:1.4;padding:8px 0;max-height:132px;min-height:38px;overflow-y:auto;display:block}",
  ".input::placeholder{color:#9ca3af;opacity:1}",
  ".input:focus,.input:focus-visible{outline:none}",
  ".composer:focus-within{box-shadow:inset 0 2px 0 -1px var(--hd-accent)}",
  ".input:disabled{cursor:not-allowed}",
  ".send{flex:none;width:38px;height:38px;border-radius:50%;display:flex;align-items:center;justify-content:center;",
  "background:var(--hd-accent);color:var(--hd-on-accent);transition:opacity .15s ease,transform .15s ease}",
  ".send:disabled{opacity:.35;cursor:default}",
  ".send:not(:disabled):hover{transform:scale(1.06)}",
  ".footer{flex:none;text-align:center;font-size:11px;color:#9ca3af;padding:0 0 8px;background:var(--hd-surface)}",
  ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",

  ...ATTACHMENT_CSS,
  ...OFFLINE_CSS,
  ...PRECHAT_CSS,
  ...RATING_CSS,

  // Phones: the panel fills the screen, inside the safe areas
  "@media (max-width:480px){",
  ".panel{right:0;bottom:0;top:0;left:0;width:100%;height:100%;max-height:none;min-height:0;border-radius:0;",
  "padding:env(safe-area-inset-top,0px) env(safe-area-inset-right,0px) 0 env(safe-area-inset-left,0px);",
  "background:var(--hd-accent)}",
  ".panel>.body,.panel>.notice,.panel>.composer,.panel>.footer{margin:0}",
  ".footer{padding-bottom:calc(8px + env(safe-area-inset-bottom,0px))}",
  ".root.open .launcher{display:none}",
  ".input{font-size:16px}", // iOS would zoom into a smaller field
  "}",
  ...TOUCHES_CSS,
  "@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}"
].join("");

/** Dark or light text, whichever reads better on the accent colour (#rgb or #rrggbb). */
export function onAccentContrast(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = h.charAt(0) + h.charAt(0) + h.charAt(1) + h.charAt(1) + h.charAt(2) + h.charAt(2);
  const rgb = [0, 2, 4].map((i) => {
    const c = parseInt(h.substr(i, 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  const luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  return luminance > 0.45 ? "#111827" : "#ffffff";
}
