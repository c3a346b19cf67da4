// localStorage / sessionStorage namespaced by inbox key; memory stands in where storage throws
// (private mode, storage disabled, quota).
import { config } from "./config.js";

const PREFIX = "helpdesk:" + config.inbox + ":";

function makeStore(kind) {
  const memory = {};
  let storage = null;
  try {
    storage = window[kind];
    storage.setItem(PREFIX + "probe", "1");
    storage.removeItem(PREFIX + "probe");
  } catch (e) {
    storage = null;
  }
  return {
    get(key) {
      let value = null;
      try {
        if (storage) value = storage.getItem(PREFIX + key);
      } catch (e) {
        /* fall through to memory */
      }
      if (value === null && Object.prototype.hasOwnProperty.call(memory, key)) value = memory[key];
      return value;
    },
    set(key, value) {
      memory[key] = String(value);
      try {
        if (storage) storage.setItem(PREFIX + key, String(value));
      } catch (e) {
        /* quota, private mode: memory only */
      }
    },
    del(key) {
      delete memory[key];
      try {
        if (storage) storage.removeItem(PREFIX + key);
      } catch (e) {
        /* ignore */
      }
    },
  };
}

export const store = makeStore("localStorage");
export const session = makeStore("sessionStorage");
