// wasm-eventsource/global: everything the main entry exports. Importing it
// from here brings the global type augmentation of global.d.mts
// (globalThis.EventSource takes our options after install()).
export * from "./eventsource.mjs";
