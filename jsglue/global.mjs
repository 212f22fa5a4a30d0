// wasm-eventsource/global: the same load() and install() as the main entry.
// Importing them from here brings the global type augmentation of
// global.d.mts (globalThis.EventSource takes our options after install()).
export { load, install } from "./eventsource.mjs";
