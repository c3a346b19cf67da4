// A connection object, whichever the transport, and its teardown: timers cleared, the socket
// closed, HTTP calls in flight aborted.

let generation = 0;

export function newConnection(kind) {
  return { kind: kind, gen: ++generation, welcomed: false, dead: false, aborts: [], lastFrameAt: Date.now() };
}

export function teardown(c) {
  if (!c || c.dead) return;
  c.dead = true;
  clearTimeout(c.welcomeTimer);
  clearInterval(c.pingTimer);
  clearTimeout(c.pollTimer);
  if (c.ws) {
    c.ws.onopen = c.ws.onmessage = c.ws.onerror = c.ws.onclose = null;
    try {
      c.ws.close(1000);
    } catch (e) {
      /* ignore */
    }
  }
  for (const controller of c.aborts) {
    try {
      controller.abort();
    } catch (e) {
      /* ignore */
    }
  }
  c.aborts = [];
}
