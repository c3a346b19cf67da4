// The panel's markup: constant, with no text in it (panel.js sets the translated labels), so
// nothing is ever interpolated into HTML.

const ICON_CHAT =
  '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
  '<path d="M12 3C6.48 3 2 6.92 2 11.75c0 2.6 1.3 4.93 3.37 6.53-.15 1.16-.62 2.28-1.37 3.2a.5.5 0 0 0 .46.8' +
  'c1.9-.2 3.62-.92 4.86-1.87.85.2 1.74.3 2.68.3 5.52 0 10-3.92 10-8.75S17.52 3 12 3Z"/></svg>';
const ICON_CHEVRON =
  '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
  '<path d="M6.7 9.3a1 1 0 0 1 1.4 0L12 13.17l3.9-3.88a1 1 0 1 1 1.4 1.42l-4.6 4.58a1 1 0 0 1-1.4 0' +
  'L6.7 10.7a1 1 0 0 1 0-1.4Z"/></svg>';
const ICON_CLOSE =
  '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
  '<path d="M6.3 6.3a1 1 0 0 1 1.4 0L12 10.6l4.3-4.3a1 1 0 1 1 1.4 1.4L13.4 12l4.3 4.3a1 1 0 0 1-1.4 1.4' +
  'L12 13.4l-4.3 4.3a1 1 0 0 1-1.4-1.4l4.3-4.3-4.3-4.3a1 1 0 0 1 0-1.4Z"/></svg>';
const ICON_SEND =
  '<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">' +
  '<path d="M3.4 20.4 20.85 12.92a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99' +
  'L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91Z"/></svg>';
const ICON_AVATAR =
  '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">' +
  '<path d="M12 3C6.48 3 2 6.92 2 11.75c0 2.6 1.3 4.93 3.37 6.53-.15 1.16-.62 2.28-1.37 3.2a.5.5 0 0 0 .46.8' +
  'c1.9-.2 3.62-.92 4.86-1.87.85.2 1.74.3 2.68.3 5.52 0 10-3.92 10-8.75S17.52 3 12 3Zm-4 10a1.25 1.25 0 1 1 0-2.5' +
  ' 1.25 1.25 0 0 1 0 2.5Zm4 0a1.25 1.25 0 1 1 0-2.5 1.25 1.25 0 0 1 0 2.5Zm4 0a1.25 1.25 0 1 1 0-2.5 1.25 1.25 0 0 1 0 2.5Z"/></svg>';

export const SKELETON =
  '<div class="root" lang="en" data-testid="widget-root">' +
  '<button class="launcher" type="button" data-testid="launcher" aria-expanded="false" aria-controls="hd-panel">' +
  '<span class="ic ic-open">' + ICON_CHAT + '</span><span class="ic ic-close">' + ICON_CHEVRON + "</span>" +
  '<span class="badge" data-testid="unread-badge" aria-hidden="true" hidden></span></button>' +
  '<section class="panel" id="hd-panel" data-testid="panel" role="dialog" hidden>' +
  '<header class="header"><div class="avatar">' + ICON_AVATAR + "</div>" +
  '<div class="titles"><h2 class="title"></h2>' +
  '<p class="status" data-testid="status" aria-live="polite"><span class="dot"></span><span class="status-text"></span></p></div>' +
  '<button class="close" type="button" data-testid="close">' + ICON_CLOSE + "</button></header>" +
  '<div class="body" data-testid="messages"><div class="list" role="log" aria-live="polite"></div>' +
  '<div class="typing" data-testid="typing" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span>' +
  '<span class="typing-label"></span></div></div>' +
  '<div class="notice" data-testid="notice" role="status" hidden></div>' +
  '<form class="composer" novalidate><textarea class="input" data-testid="input" rows="1"></textarea>' +
  '<button class="send" type="submit" data-testid="send" disabled>' + ICON_SEND + "</button></form>" +
  '<div class="footer"></div>' +
  "</section></div>";
